// The business system of a chaos run: a webhook endpoint built on the client kit. Its inbox and
// effects live in its own database; it can be told to fail (5xx) or to answer too late.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEventHub, createInbox, type EventHub } from '../client/index.ts';
import type { Pool } from '../store/db.ts';
import type { Rng } from './random.ts';
import { EFFECTS_TABLE, INBOX_TABLE } from './types.ts';

export interface ReceiverFaults {
  /** Share of requests answered 500 before anything is applied. */
  failRate: number;
  /** Share of requests applied, then answered only after `lateMs` (past Paycenter's timeout). */
  lateRate: number;
  lateMs: number;
}

export interface Receiver {
  url: string;
  hub: EventHub;
  setFaults(faults: ReceiverFaults | undefined): void;
  close(): Promise<void>;
}

const BODY_BYTES_MAX = 1024 * 1024;

export async function startReceiver(pool: Pool, secret: string, rng: Rng): Promise<Receiver> {
  await pool.query(`CREATE TABLE IF NOT EXISTS ${EFFECTS_TABLE} (event_id text NOT NULL, order_id text NOT NULL, type text NOT NULL)`);
  const hub = createEventHub();
  const inbox = createInbox({
    pool,
    table: INBOX_TABLE,
    hub,
    handler: async (event, tx) => {
      await tx.query(`INSERT INTO ${EFFECTS_TABLE} (event_id, order_id, type) VALUES ($1, $2, $3)`, [
        event.id,
        event.data.order.id,
        event.type,
      ]);
    },
  });
  await inbox.ensureTable();
  let faults: ReceiverFaults | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes <= BODY_BYTES_MAX) chunks.push(c);
    });
    req.on('end', () => {
      void (async () => {
        if (faults && rng.chance(faults.failRate)) return res.writeHead(500).end('chaos: failing on purpose');
        const late = faults && rng.chance(faults.lateRate) ? faults.lateMs : 0;
        const answer = await inbox.handleWebhook({ headers: req.headers, rawBody: Buffer.concat(chunks) }, secret);
        if (late) await new Promise((r) => setTimeout(r, late));
        if (!res.destroyed) res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      })().catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    hub,
    setFaults: (f) => (faults = f),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
