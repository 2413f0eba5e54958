// A real HTTP webhook receiver for tests: records every request with its raw body and answers
// as the test's behaviour says (status, headers, or a hang past Paycenter's timeout).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  /** The webhook-id header. */
  id: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Arrival time, ms since the epoch. */
  at: number;
  /** 1 for the first request carrying this webhook-id, 2 for the second, … */
  n: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering (longer than the delivery timeout: Paycenter gives up first). */
  delayMs?: number;
}

export type Behaviour = (req: ReceivedRequest) => Answer | Promise<Answer>;

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  setBehaviour(b: Behaviour): void;
  close(): Promise<void>;
}

export async function startReceiver(initial: Behaviour = () => ({ status: 200 })): Promise<Receiver> {
  let behaviour = initial;
  const requests: ReceivedRequest[] = [];
  const seen = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(req.headers['webhook-id'] ?? '');
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      const received: ReceivedRequest = { id, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now(), n };
      requests.push(received);
      void Promise.resolve(behaviour(received)).then(async (answer) => {
        if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
        if (res.destroyed) return;
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? `answer ${answer.status}`);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    requests,
    setBehaviour: (b) => (behaviour = b),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
