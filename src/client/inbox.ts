// The idempotent consumer: an event's id is inserted into an inbox table in the same transaction
// as the handler's effects, so each event is applied exactly once however often it is delivered.
// A concurrent delivery of the same event waits on the primary key until the first commits, then
// finds the row and skips; if the first rolls back, the second applies it.
import { handleWebhook, type WebhookRequest, type WebhookResponse } from './handle-webhook.ts';
import { parseEvent } from './event.ts';
import type { EventHub } from './hub.ts';
import type { PaycenterEvent } from './types.ts';
import type { VerifyWebhookOptions } from './verify.ts';

/** The part of a pg `PoolClient` the inbox uses. */
export interface InboxClient {
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null; rows: any[] }>;
  release(err?: Error | boolean): void;
}

/** The part of a pg `Pool` the inbox uses: pass your own `new pg.Pool(…)`. */
export interface InboxPool<C extends InboxClient> {
  connect(): Promise<C>;
}

export interface InboxOptions<C extends InboxClient> {
  pool: InboxPool<C>;
  /** Optionally schema-qualified; created by ensureTable. Default `paycenter_inbox`. */
  table?: string;
  /**
   * Applies the event to your data through `tx`, inside the inbox's transaction: use `tx` for every
   * write and do not COMMIT or ROLLBACK yourself. Throw to refuse the event; it is then retried.
   */
  handler: (event: PaycenterEvent, tx: C) => Promise<void>;
  /** Told about every event consumed, applied or duplicate, after its commit. */
  hub?: EventHub;
}

export interface Inbox {
  /** Creates the inbox table if it does not exist; call once at start-up. */
  ensureTable(): Promise<void>;
  /** `applied: false` when the event was already consumed; the handler then did not run. */
  consume(event: PaycenterEvent): Promise<{ applied: boolean }>;
  /** Verifies a webhook delivery and consumes it; send the answer back as JSON. */
  handleWebhook(req: WebhookRequest, secret: string, opts?: VerifyWebhookOptions): Promise<WebhookResponse>;
}

/** Unquoted identifiers, optionally `schema.table`; 63 bytes is PostgreSQL's name limit. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

export function createInbox<C extends InboxClient>(options: InboxOptions<C>): Inbox {
  const table = options.table ?? 'paycenter_inbox';
  if (!TABLE_NAME.test(table)) {
    throw new TypeError(`inbox table ${JSON.stringify(table)} must be a plain identifier like paycenter_inbox or schema.table`);
  }
  const { pool, handler, hub } = options;

  async function consume(value: PaycenterEvent): Promise<{ applied: boolean }> {
    // Broker messages arrive unchecked; a malformed one must not reach the handler or the table.
    const event = parseEvent(value);
    const tx = await pool.connect();
    let broken: Error | undefined;
    let applied: boolean;
    try {
      await tx.query('BEGIN');
      const inserted = await tx.query(
        `INSERT INTO ${table} (event_id, type, order_id, sequence) VALUES ($1, $2, $3, $4)
         ON CONFLICT (event_id) DO NOTHING`,
        [event.id, event.type, event.data.order.id, event.sequence],
      );
      applied = inserted.rowCount === 1;
      if (applied) await handler(event, tx);
      await tx.query('COMMIT');
    } catch (err) {
      // A connection that cannot even roll back is discarded rather than handed to the next caller.
      await tx.query('ROLLBACK').catch((rollbackErr: Error) => (broken = rollbackErr));
      throw err;
    } finally {
      tx.release(broken);
    }
    hub?.publish(event);
    return { applied };
  }

  return {
    async ensureTable() {
      const client = await pool.connect();
      try {
        await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
          event_id text PRIMARY KEY,
          type text NOT NULL,
          order_id text NOT NULL,
          sequence bigint NOT NULL,
          processed_at timestamptz NOT NULL DEFAULT now()
        )`);
      } finally {
        client.release();
      }
    },
    consume,
    handleWebhook: (req, secret, opts) => handleWebhook(consume, req, secret, opts),
  };
}
