// One signed call to the Alipay gateway, turned into a TransportFact: an answer (status, raw body,
// trace id, signature check), a timeout, or a network error. Meaning is given in classify.ts.
import type { KeyObject } from 'node:crypto';
import { sendRequest } from '../../http/request.ts';
import type { TransportFact } from './classify.ts';
import { encodeForm, signedParams, type AlipayMethod } from './params.ts';
import { verifyAlipayResponse } from './verify-response.ts';

/** Larger answers are cut off and treated as a network error (unknown); a trade answer is a few KiB. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface CallContext {
  /** The gateway endpoint, without query string. */
  gatewayUrl: string;
  appId: string;
  privateKey: KeyObject;
  alipayPublicKey: KeyObject;
  timeoutMs: number;
  userAgent: string;
  now: () => Date;
}

/**
 * Sent as Alipay's SDKs send it: the common parameters and `sign` in the query string,
 * `biz_content` in the form body (so a long subject never meets a URL length limit).
 */
export async function callAlipay(
  ctx: CallContext,
  method: AlipayMethod,
  bizContent: string,
  extra: Readonly<Record<string, string | undefined>> = {},
): Promise<TransportFact> {
  const params = await signedParams(ctx, method, bizContent, ctx.now(), extra);
  const url = new URL(ctx.gatewayUrl);
  url.search = encodeForm(Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'biz_content')));
  const body = encodeForm({ biz_content: bizContent });
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8',
    // A declared length rather than chunked encoding: form endpoints behind older proxies refuse chunks.
    'Content-Length': String(Buffer.byteLength(body)),
    Accept: 'application/json',
    'User-Agent': ctx.userAgent,
  };
  const answer = await sendRequest(url, { method: 'POST', headers, body, timeoutMs: ctx.timeoutMs, maxResponseBytes: MAX_RESPONSE_BYTES });
  if (answer.kind !== 'answer') return answer;
  const text = answer.bytes.toString('utf8');
  return {
    kind: 'answer',
    status: answer.status,
    body: text,
    traceId: answer.header('trace_id') ?? '',
    verification: verifyAlipayResponse(text, method, ctx.alipayPublicKey),
  };
}
