// The bank's outgoing HTTP: a POST whose whole answer must arrive within a time limit, over
// keep-alive connections (node:http costs a fraction of fetch's CPU per notification).
import http from 'node:http';
import https from 'node:https';

const SOCKETS_PER_HOST_MAX = 64;
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: SOCKETS_PER_HOST_MAX }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: SOCKETS_PER_HOST_MAX }),
};

export type PostResult = { status: number } | { failure: string; timedOut: boolean };

/** Never follows redirects: WeChat treats a 3xx as "not acknowledged" too. */
export function postWithin(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PostResult> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((settle) => {
    let settled = false;
    const resolve = (result: PostResult) => {
      if (settled) return;
      settled = true;
      settle(result);
    };
    const request = client.request(target, { method: 'POST', headers, agent: agents[target.protocol as 'http:' | 'https:'] }, (response) => {
      // The answer counts once it has been read in full, inside the same limit.
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
      response.on('error', (err) => resolve({ failure: err.message, timedOut: false }));
    });
    const timer = setTimeout(() => {
      resolve({ failure: `no answer within ${timeoutMs} ms`, timedOut: true });
      request.destroy();
    }, timeoutMs);
    request.on('close', () => {
      clearTimeout(timer);
      resolve({ failure: 'connection closed before the answer was complete', timedOut: false });
    });
    request.on('error', (err) => resolve({ failure: err.message, timedOut: false }));
    request.end(body);
  });
}
