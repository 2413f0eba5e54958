// One signed HTTP call to WeChat Pay, turned into a TransportFact: an answer (status, raw body,
// Request-ID, signature check), a timeout, or a network error. Meaning is given in classify.ts.
import type { KeyObject } from 'node:crypto';
import { sendRequest, type HttpAnswer, type HttpFailure } from '../../http/request.ts';
import type { TransportFact } from './classify.ts';
import { buildAuthorization, buildSignMessage, newNonce, signMessage, unixSeconds } from './sign.ts';
import { verifyWechatpaySignature, type PlatformKey } from './verify.ts';

/** Larger answers are cut off and treated as a network error (unknown); a Transaction is a few KiB. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
/** A day's bill file: about 300 bytes a line, so 64 MiB holds some 200 000 transactions. */
export const MAX_BILL_FILE_BYTES = 64 * 1024 * 1024;

export interface CallContext {
  /** Without trailing slash; may carry a path prefix (e.g. /sandbox/wechatpay) that is signed too. */
  baseUrl: string;
  mchId: string;
  certSerialNo: string;
  privateKey: KeyObject;
  platform: PlatformKey;
  timeoutMs: number;
  userAgent: string;
  now: () => Date;
}

export async function callWechatpay(
  ctx: CallContext,
  method: 'GET' | 'POST',
  pathAndQuery: string,
  body?: string,
): Promise<TransportFact> {
  const answer = await sendSigned(ctx, method, new URL(ctx.baseUrl + pathAndQuery), body, MAX_RESPONSE_BYTES);
  if (answer.kind !== 'answer') return answer;
  const verification = verifyWechatpaySignature((name) => answer.header(name), answer.bytes, ctx.platform, ctx.now().getTime());
  return {
    kind: 'answer',
    status: answer.status,
    body: answer.bytes.toString('utf8'),
    requestId: answer.header('request-id') ?? '',
    verification,
  };
}

/**
 * A signed GET of a bill's download_url. The file comes back unsigned (channels.md §1.3's one
 * exception): the caller checks its SHA1 against the signed hash_value instead.
 */
export function downloadBillFile(ctx: CallContext, downloadUrl: URL): Promise<HttpAnswer | HttpFailure> {
  return sendSigned(ctx, 'GET', downloadUrl, undefined, MAX_BILL_FILE_BYTES);
}

async function sendSigned(
  ctx: CallContext,
  method: 'GET' | 'POST',
  url: URL,
  body: string | undefined,
  maxResponseBytes: number,
): Promise<HttpAnswer | HttpFailure> {
  // Signed exactly as requested: the URL object given is the one requested.
  const canonicalUrl = url.pathname + url.search;
  const timestampS = unixSeconds(ctx.now());
  const nonce = newNonce();
  const signature = await signMessage(ctx.privateKey, buildSignMessage(method, canonicalUrl, timestampS, nonce, body ?? ''));
  const headers: Record<string, string> = {
    Authorization: buildAuthorization({ mchId: ctx.mchId, nonce, signature, timestampS, serialNo: ctx.certSerialNo }),
    Accept: 'application/json',
    'User-Agent': ctx.userAgent,
  };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return sendRequest(url, { method, headers, body, timeoutMs: ctx.timeoutMs, maxResponseBytes });
}
