// One signed HTTP call to WeChat Pay, turned into a TransportFact: an answer (status, raw body,
// Request-ID, signature check), a timeout, or a network error. Meaning is given in classify.ts.
import type { KeyObject } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
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
  // Signed exactly as requested: the URL object below is the one requested.
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

  const answer = await send(url, method, headers, body, ctx.timeoutMs);
  if ('kind' in answer) return answer;
  const verification = verifyWechatpaySignature((name) => answer.header(name), answer.bytes, ctx.platform, ctx.now().getTime());
  return {
    kind: 'answer',
    status: answer.status,
    body: answer.bytes.toString('utf8'),
    requestId: answer.header('request-id') ?? '',
    verification,
  };
}

// Keep-alive agents: one TCP (and TLS) connection is reused across calls. node:http costs a
// fraction of fetch's CPU per call, and this runs for every payment.
const AGENT_SOCKETS_MAX = 64;
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: AGENT_SOCKETS_MAX });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: AGENT_SOCKETS_MAX });

interface RawAnswer {
  status: number;
  bytes: Buffer;
  header(name: string): string | undefined;
}

/** One request; never follows redirects (a redirect would reach a URL we did not sign). */
function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
): Promise<RawAnswer | TransportFact> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((settle) => {
    let settled = false;
    const resolve = (value: RawAnswer | TransportFact) => {
      if (settled) return;
      settled = true;
      settle(value);
    };
    const request = client.request(
      url,
      { method, headers, agent: url.protocol === 'https:' ? httpsAgent : httpAgent, timeout: timeoutMs },
      (response) => {
        const declared = Number(response.headers['content-length']);
        if (Number.isFinite(declared) && declared > MAX_RESPONSE_BYTES) {
          response.destroy();
          resolve({ kind: 'network_error', detail: `answer larger than ${MAX_RESPONSE_BYTES} bytes (status ${response.statusCode})` });
          return;
        }
        const chunks: Buffer[] = [];
        let total = 0;
        response.on('data', (chunk: Buffer) => {
          total += chunk.length;
          if (total > MAX_RESPONSE_BYTES) {
            response.destroy();
            resolve({ kind: 'network_error', detail: `answer larger than ${MAX_RESPONSE_BYTES} bytes (status ${response.statusCode})` });
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            bytes: Buffer.concat(chunks, total),
            header: (name) => {
              const value = response.headers[name.toLowerCase()];
              return Array.isArray(value) ? value.join(', ') : value;
            },
          }),
        );
        response.on('error', (err) => resolve(transportError(err, timeoutMs)));
      },
    );
    // Covers the whole call: connect, send and every wait for answer bytes.
    const timer = setTimeout(() => {
      request.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' }));
    }, timeoutMs);
    request.on('close', () => {
      clearTimeout(timer);
      // Only reached without an answer when the connection ended early: whatever happened is unknown.
      resolve({ kind: 'network_error', detail: 'connection closed before the answer was complete' });
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('socket idle'), { name: 'TimeoutError' })));
    request.on('error', (err) => resolve(transportError(err, timeoutMs)));
    request.end(body);
  });
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
