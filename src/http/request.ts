// One outgoing HTTP request with a hard time limit over keep-alive connections, turned into an
// answer or a failure (timeout, network error). Used for every call Paycenter makes: channels and
// webhooks. node:http costs a fraction of fetch's CPU per call.
import http from 'node:http';
import https from 'node:https';

export interface HttpAnswer {
  kind: 'answer';
  status: number;
  bytes: Buffer;
  header(name: string): string | undefined;
}

export type HttpFailure = { kind: 'timeout'; timeoutMs: number } | { kind: 'network_error'; detail: string };

export interface HttpRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Larger answers are cut off and reported as a network error. */
  maxResponseBytes: number;
}

const AGENT_SOCKETS_MAX = 64;
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: AGENT_SOCKETS_MAX }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: AGENT_SOCKETS_MAX }),
};

/** Never follows redirects: a redirect would reach a URL the caller did not choose or sign. */
export function sendRequest(url: URL, req: HttpRequest): Promise<HttpAnswer | HttpFailure> {
  const client = url.protocol === 'https:' ? https : http;
  const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
  const { timeoutMs, maxResponseBytes } = req;
  return new Promise((settle) => {
    let settled = false;
    const resolve = (value: HttpAnswer | HttpFailure) => {
      if (settled) return;
      settled = true;
      settle(value);
    };
    const tooLarge = (status: number | undefined): HttpFailure => ({
      kind: 'network_error',
      detail: `answer larger than ${maxResponseBytes} bytes (status ${status})`,
    });
    const request = client.request(url, { method: req.method, headers: req.headers, agent, timeout: timeoutMs }, (response) => {
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxResponseBytes) {
        response.destroy();
        resolve(tooLarge(response.statusCode));
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      response.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > maxResponseBytes) {
          response.destroy();
          resolve(tooLarge(response.statusCode));
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () =>
        resolve({
          kind: 'answer',
          status: response.statusCode ?? 0,
          bytes: Buffer.concat(chunks, total),
          header: (name) => {
            const value = response.headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(', ') : value;
          },
        }),
      );
      response.on('error', (err) => resolve(failureOf(err, timeoutMs)));
    });
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
    request.on('error', (err) => resolve(failureOf(err, timeoutMs)));
    request.end(req.body);
  });
}

function failureOf(err: unknown, timeoutMs: number): HttpFailure {
  const name = err instanceof Error || err instanceof DOMException ? err.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'timeout', timeoutMs };
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    const causeText =
      cause instanceof Error ? ` (${(cause as Error & { code?: string }).code ?? cause.name}: ${cause.message})` : '';
    const code = (err as Error & { code?: string }).code;
    return { kind: 'network_error', detail: `${code && !err.message.includes(code) ? code + ': ' : ''}${err.message}${causeText}` };
  }
  return { kind: 'network_error', detail: String(err) };
}
