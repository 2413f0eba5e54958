// Event delivery to a local webhook receiver: the latency from an event's transaction to its
// receipt while events are being made, and how fast a backlog drains. The receiver runs in the
// driver process and only timestamps and acknowledges.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from '../src/store/db.ts';
import { expectStatus, percentile, runConcurrent, type HttpClient } from './load.ts';
import { orderContent } from './floor.ts';

const RECEIPT_TIMEOUT_MS = 60_000;

export interface DeliveryFigures {
  live: { n: number; perSecond: number; p50Ms: number; p99Ms: number };
  drain: { n: number; perSecond: number };
}

export async function measureDelivery(api: HttpClient, pool: Pool, n: number, concurrency: number, run: string): Promise<DeliveryFigures> {
  const received = new Map<string, number>();
  const lagsMs: number[] = [];
  let onReceipt = () => undefined as void;
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const at = Date.now();
      const event = JSON.parse(body) as { id: string; createdAt: string };
      if (!received.has(event.id)) {
        received.set(event.id, at);
        lagsMs.push(at - Date.parse(event.createdAt));
      }
      res.writeHead(204).end();
      onReceipt();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const endpoint = expectStatus(await api.request('POST', '/v1/webhook-endpoints', { url }), 201, 'POST /v1/webhook-endpoints');
    const endpointId = (JSON.parse(endpoint.body) as { id: string }).id;
    const until = (count: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${received.size} of ${count} events received`)), RECEIPT_TIMEOUT_MS);
        onReceipt = () => {
          if (received.size < count) return;
          clearTimeout(timer);
          resolve();
        };
        onReceipt();
      });

    // Live: each task commits one event (an order closed before payment: no bank involved).
    const started = Date.now();
    await runConcurrent(n, concurrency, async (i) => {
      const created = expectStatus(await api.request('POST', '/v1/orders', orderContent(`${run}-deliver-${i}`)), 201, 'POST /v1/orders');
      const orderId = (JSON.parse(created.body) as { id: string }).id;
      expectStatus(await api.request('POST', `/v1/orders/${orderId}/close`), 200, 'POST /close');
    });
    await until(n);
    const liveMs = Date.now() - started;
    const sorted = [...lagsMs].sort((a, b) => a - b);

    // Drain: every earlier event of the run owed to the endpoint at once, as after an outage.
    const { rowCount } = await pool.query(
      `INSERT INTO deliveries (event_id, target, endpoint_id)
       SELECT id, 'webhook', $1 FROM events WHERE type = 'order.paid'`,
      [endpointId],
    );
    const backlog = rowCount ?? 0;
    const drainStarted = Date.now();
    await until(n + backlog);
    return {
      live: { n, perSecond: n / (liveMs / 1000), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99) },
      drain: { n: backlog, perSecond: backlog / ((Date.now() - drainStarted) / 1000) },
    };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
