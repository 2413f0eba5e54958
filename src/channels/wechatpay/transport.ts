// One signed HTTP call to WeChat Pay, turned into a TransportFact: an answer (status, raw body,
// Request-ID, signature check), a timeout, or a network error. Meaning is given in classify.ts.
import type { KeyObject } from 'node:crypto';
import type { TransportFact } from './classify.ts';
import { buildAuthorization, buildSignMessage, newNonce, signMessage, unixSeconds } from './sign.ts';
import { verifyWechatpaySignature, type PlatformKey } from './verify.ts';

/** Larger answers are cut off and treated as a network error (unknown); a Transaction is a few KiB. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

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
  const url = new URL(ctx.baseUrl + pathAndQuery);
  // Signed exactly as requested: the URL object below is the one handed to fetch.
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

  try {
    const response = await fetch(url, {
      method,
      headers,
      body,
      // A redirect would reach a URL we did not sign; treat it as an unexpected status instead.
      redirect: 'manual',
      signal: AbortSignal.timeout(ctx.timeoutMs),
    });
    const bytes = await readCapped(response);
    if (bytes === undefined) {
      return { kind: 'network_error', detail: `answer larger than ${MAX_RESPONSE_BYTES} bytes (status ${response.status})` };
    }
    const verification = verifyWechatpaySignature(
      (name) => response.headers.get(name) ?? undefined,
      bytes,
      ctx.platform,
      ctx.now().getTime(),
    );
    return {
      kind: 'answer',
      status: response.status,
      body: bytes.toString('utf8'),
      requestId: response.headers.get('request-id') ?? '',
      verification,
    };
  } catch (err) {
    return transportError(err, ctx.timeoutMs);
  }
}

async function readCapped(response: Response): Promise<Buffer | undefined> {
  if (response.body === null) return Buffer.alloc(0);
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > MAX_RESPONSE_BYTES) {
    await response.body.cancel();
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > MAX_RESPONSE_BYTES) {
      await response.body.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function transportError(err: unknown, timeoutMs: number): TransportFact {
  const name = err instanceof Error || err instanceof DOMException ? err.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'timeout', timeoutMs };
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    const causeText =
      cause instanceof Error ? ` (${(cause as Error & { code?: string }).code ?? cause.name}: ${cause.message})` : '';
    return { kind: 'network_error', detail: `${err.message}${causeText}` };
  }
  return { kind: 'network_error', detail: String(err) };
}
