// The SQL of the bank's outgoing notifications, shared by every simulated channel. Each channel
// keeps its own `<schema>.notifications` table with the columns below, in its own ledger schema,
// so a channel's ledger is complete on its own and survives the sandbox process.
//
// How a channel uses this file and ./notifier.ts:
//   1. Its migration includes notificationsTableSql('<schema>'), after its `<schema>.trades` table,
//      whose primary key must be (merchant id, out_trade_no), both text: every notification belongs
//      to one trade.
//   2. The statement that marks a trade paid enqueues the notification in the same statement: a CTE
//      returning the paid trade as (mch_id, out_trade_no, notify_url), followed by
//      insertNotificationSql('<schema>', '<cte name>'), which takes the NOTIFICATION_PARAMS first
//      parameters ($1…$7, from notificationParams(); the channel's own parameters start at $8).
//      The row comes from Notifier.newNotification(); after the commit, Notifier.enqueued() sends it.
//      A refund's notification is enqueued the same way with kind 'refund': it belongs to the
//      refunded trade too, but is not one of the trade's payment notifications.
//   3. Its ledger listing joins notificationCountsSql('<schema>', '<trades alias>') for the
//      notificationsSent / Acknowledged / Dropped columns of the control API (payment ones only).
// Everything else (leases, retries, recovery after a crash) is the Notifier's business.
import type pg from 'pg';

/** Anything that can run a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

export type NotificationState = 'pending' | 'acknowledged' | 'dropped' | 'failed';

export type NotificationKind = 'payment' | 'refund';

/** Schema names are interpolated into SQL: only plain lower-case identifiers are accepted. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

/** `<schema>.<table>`, for a schema name that is safe to interpolate. */
export function schemaTable(schema: string, table: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`not a plain schema name: ${JSON.stringify(schema)}`);
  return `${schema}.${table}`;
}

function notifications(schema: string): string {
  return schemaTable(schema, 'notifications');
}

/** The CREATE statements of `<schema>.notifications`; idempotent. `<schema>.trades` must exist first. */
export function notificationsTableSql(schema: string): string {
  const table = notifications(schema);
  return `
CREATE TABLE IF NOT EXISTS ${table} (
  id              text PRIMARY KEY,
  mch_id          text NOT NULL,
  out_trade_no    text NOT NULL,
  notify_url      text NOT NULL,
  -- Built (signed or encrypted) once, so every retry carries the same id and the same bytes.
  body            text NOT NULL,
  state           text NOT NULL CHECK (state IN ('pending', 'acknowledged', 'dropped', 'failed')),
  -- Attempts on the retry schedule; sends counts HTTP requests (a duplicated attempt sends two).
  attempts        integer NOT NULL DEFAULT 0,
  sends           integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  -- The sandbox process that may send this row until lease_until; others wait for the lease to lapse.
  lease_owner     text,
  lease_until     timestamptz,
  last_result     text,
  created_at      timestamptz NOT NULL,
  finished_at     timestamptz,
  FOREIGN KEY (mch_id, out_trade_no) REFERENCES ${schema}.trades
);
-- Added with refunds: rows from before were all payment notifications.
ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'payment' CHECK (kind IN ('payment', 'refund'));
CREATE INDEX IF NOT EXISTS notifications_due ON ${table} (next_attempt_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS notifications_trade ON ${table} (mch_id, out_trade_no);
`;
}

export interface NewNotification {
  id: string;
  body: string;
  state: 'pending' | 'dropped';
  nextAttemptAt: Date;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  createdAt: Date;
}

/** How many parameters insertNotificationSql takes ($1 to $7); the channel's own start after them. */
export const NOTIFICATION_PARAMS = 7;

export function notificationParams(n: NewNotification): unknown[] {
  return [n.id, n.body, n.state, n.nextAttemptAt, n.leaseOwner, n.leaseUntil, n.createdAt];
}

/**
 * The INSERT that enqueues a notification for the trade a preceding CTE named `source` returns
 * as (mch_id, out_trade_no, notify_url): a dropped notification is born finished.
 */
export function insertNotificationSql(schema: string, source: string, kind: NotificationKind = 'payment'): string {
  if (kind !== 'payment' && kind !== 'refund') throw new Error(`not a notification kind: ${JSON.stringify(kind)}`);
  return `INSERT INTO ${notifications(schema)}
       (id, mch_id, out_trade_no, notify_url, body, state, next_attempt_at, lease_owner, lease_until,
        created_at, finished_at, kind)
     SELECT $1, mch_id, out_trade_no, notify_url, $2, $3, $4, $5, $6, $7,
            CASE WHEN $3 = 'dropped' THEN $7::timestamptz END, '${kind}'
       FROM ${source}`;
}

/**
 * A LEFT JOIN LATERAL adding, per trade of the alias `trade` (columns mch_id, out_trade_no), the
 * integer columns "notificationsSent", "notificationsAcknowledged" and "notificationsDropped" of
 * its payment notifications.
 */
export function notificationCountsSql(schema: string, trade: string, merchantColumn = 'mch_id'): string {
  return `LEFT JOIN LATERAL (
       SELECT coalesce(sum(n.sends), 0)::int AS "notificationsSent",
              (count(*) FILTER (WHERE n.state = 'acknowledged'))::int AS "notificationsAcknowledged",
              (count(*) FILTER (WHERE n.state = 'dropped'))::int AS "notificationsDropped"
         FROM ${notifications(schema)} n
        WHERE n.mch_id = ${trade}.${merchantColumn} AND n.out_trade_no = ${trade}.out_trade_no AND n.kind = 'payment'
     ) counts ON true`;
}

export interface DueNotification {
  id: string;
  notifyUrl: string;
  body: string;
  attempts: number;
}

const DUE_COLUMNS = `id, notify_url AS "notifyUrl", body, attempts`;

/** Takes due, unleased rows for this process; SKIP LOCKED lets several sandboxes poll one database. */
export async function leaseDueNotifications(
  q: Queryable,
  schema: string,
  lease: { owner: string; now: Date; leaseUntil: Date; limit: number },
): Promise<DueNotification[]> {
  const table = notifications(schema);
  const { rows } = await q.query<DueNotification>(
    `UPDATE ${table} SET lease_owner = $1, lease_until = $3
      WHERE id IN (
        SELECT id FROM ${table}
         WHERE state = 'pending' AND next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
         ORDER BY next_attempt_at
         LIMIT $4
         FOR UPDATE SKIP LOCKED)
      RETURNING ${DUE_COLUMNS}`,
    [lease.owner, lease.now, lease.leaseUntil, lease.limit],
  );
  return rows;
}

/** Extends this process's lease on one row, or takes it over if the lease lapsed; undefined if lost. */
export async function renewNotificationLease(
  q: Queryable,
  schema: string,
  id: string,
  lease: { owner: string; now: Date; leaseUntil: Date },
): Promise<DueNotification | undefined> {
  const { rows } = await q.query<DueNotification>(
    `UPDATE ${notifications(schema)} SET lease_owner = $2, lease_until = $4
      WHERE id = $1 AND state = 'pending' AND (lease_owner = $2 OR lease_until IS NULL OR lease_until <= $3)
      RETURNING ${DUE_COLUMNS}`,
    [id, lease.owner, lease.now, lease.leaseUntil],
  );
  return rows[0];
}

/** Records an attempt that ends the notification's life (acknowledged, dropped, or schedule exhausted). */
export async function finishNotification(
  q: Queryable,
  schema: string,
  id: string,
  owner: string,
  outcome: { state: Exclude<NotificationState, 'pending'>; attempted: boolean; sends: number; lastResult: string; now: Date },
): Promise<void> {
  await q.query(
    `UPDATE ${notifications(schema)}
        SET state = $3, attempts = attempts + $4, sends = sends + $5, last_result = $6, finished_at = $7,
            lease_owner = NULL, lease_until = NULL
      WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`,
    [id, owner, outcome.state, outcome.attempted ? 1 : 0, outcome.sends, outcome.lastResult, outcome.now],
  );
}

/** Records a failed attempt and the next one; leaseUntil null hands the row to any process's poller. */
export async function rescheduleNotification(
  q: Queryable,
  schema: string,
  id: string,
  owner: string,
  r: { sends: number; lastResult: string; nextAttemptAt: Date; leaseUntil: Date | null },
): Promise<void> {
  await q.query(
    `UPDATE ${notifications(schema)}
        SET attempts = attempts + 1, sends = sends + $3, last_result = $4, next_attempt_at = $5,
            lease_owner = CASE WHEN $6::timestamptz IS NULL THEN NULL ELSE lease_owner END, lease_until = $6
      WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`,
    [id, owner, r.sends, r.lastResult, r.nextAttemptAt, r.leaseUntil],
  );
}

/** On shutdown: give the rows this process was waiting on back to every poller at once. */
export async function releaseNotificationLeases(q: Queryable, schema: string, ids: string[], owner: string): Promise<void> {
  if (ids.length === 0) return;
  await q.query(
    `UPDATE ${notifications(schema)} SET lease_owner = NULL, lease_until = NULL
      WHERE id = ANY($1) AND lease_owner = $2 AND state = 'pending'`,
    [ids, owner],
  );
}
