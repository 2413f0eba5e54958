// Deliveries: one row per (event, target), claimed with SKIP LOCKED under a lease so any number
// of Paycenter processes share them and a killed process's claims come back when the lease ends.
import type { Queryable } from './db.ts';
import type { EventRow } from './events.ts';

export type DeliveryTarget = 'webhook' | 'amqp' | 'nats';
export type DeliveryState = 'pending' | 'delivered' | 'dead';
export type AttemptOutcome = 'delivered' | 'failed' | 'gone';

export interface ClaimedDelivery {
  id: number;
  target: DeliveryTarget;
  endpointId: string | null;
  /** This attempt's number; a result is recorded only while the row still carries it. */
  attempts: number;
  step: number;
  event: EventRow;
  /** Null for brokers, and when the endpoint was deleted or disabled since. */
  endpoint: { url: string; secret: string } | null;
}

interface ClaimRow {
  id: number;
  target: DeliveryTarget;
  endpointId: string | null;
  attempts: number;
  step: number;
  eventId: string;
  appId: string;
  orderId: string;
  type: EventRow['type'];
  sequence: number;
  data: unknown;
  createdAt: Date;
  url: string | null;
  secret: string | null;
}

/** Takes up to `limit` due deliveries and holds them for `leaseMs`. */
export async function claimDueDeliveries(q: Queryable, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const { rows } = await q.query<ClaimRow>({
    name: 'claim_due_deliveries',
    text: `WITH due AS (
       SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= now()
       ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE deliveries d SET attempts = d.attempts + 1, next_attempt_at = now() + $2 * interval '1 millisecond'
       FROM due WHERE d.id = due.id
       RETURNING d.id, d.target, d.endpoint_id, d.attempts, d.step, d.event_id
     )
     SELECT c.id, c.target, c.endpoint_id AS "endpointId", c.attempts, c.step,
            e.id AS "eventId", e.app_id AS "appId", e.order_id AS "orderId", e.type, e.sequence, e.data,
            e.created_at AS "createdAt",
            CASE WHEN w.deleted_at IS NULL AND w.disabled_at IS NULL THEN w.url END AS url,
            CASE WHEN w.deleted_at IS NULL AND w.disabled_at IS NULL THEN w.secret END AS secret
       FROM claimed c JOIN events e ON e.id = c.event_id LEFT JOIN webhook_endpoints w ON w.id = c.endpoint_id`,
    values: [limit, leaseMs],
  });
  return rows.map((r) => ({
    id: r.id,
    target: r.target,
    endpointId: r.endpointId,
    attempts: r.attempts,
    step: r.step,
    event: { id: r.eventId, appId: r.appId, orderId: r.orderId, type: r.type, sequence: r.sequence, data: r.data, createdAt: r.createdAt },
    endpoint: r.url !== null && r.secret !== null ? { url: r.url, secret: r.secret } : null,
  }));
}

/** One attempt as logged. */
export interface AttemptLog {
  attempt: number;
  startedAt: Date;
  latencyMs: number;
  outcome: AttemptOutcome;
  statusCode: number | null;
  responseExcerpt: string | null;
  error: string | null;
}

export interface AttemptRecord extends AttemptLog {
  deliveryId: number;
  /** What the delivery becomes: delivered, dead, or pending again at `nextAttemptAt`. */
  next: { state: DeliveryState; step: number; nextAttemptAt: Date | null };
}

/**
 * Logs the attempt and moves the delivery — only if the row still carries this attempt's number
 * (a result that arrives after its lease ended and another claim was made does not overwrite).
 */
export async function recordAttempt(q: Queryable, r: AttemptRecord): Promise<boolean> {
  const { rowCount } = await q.query({
    name: 'record_delivery_attempt',
    text: `WITH logged AS (
       INSERT INTO delivery_attempts (delivery_id, attempt, started_at, latency_ms, outcome, status_code, response_excerpt, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     )
     UPDATE deliveries SET state = $9, step = $10, next_attempt_at = coalesce($11, next_attempt_at),
        delivered_at = CASE WHEN $9 = 'delivered' THEN now() END,
        last_error = $12
      WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
    values: [
      r.deliveryId,
      r.attempt,
      r.startedAt,
      r.latencyMs,
      r.outcome,
      r.statusCode,
      r.responseExcerpt,
      r.error,
      r.next.state,
      r.next.step,
      r.next.nextAttemptAt,
      r.outcome === 'delivered' ? null : (r.error ?? `HTTP ${r.statusCode}`),
    ],
  });
  return rowCount === 1;
}

export interface DeliveryWithAttempts {
  id: number;
  target: DeliveryTarget;
  endpointId: string | null;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  lastError: string | null;
  log: AttemptLog[];
}

export async function listDeliveriesOfEvent(q: Queryable, eventId: string): Promise<DeliveryWithAttempts[]> {
  const { rows } = await q.query<DeliveryWithAttempts>({
    name: 'list_deliveries_of_event',
    text: `SELECT d.id, d.target, d.endpoint_id AS "endpointId", d.state, d.attempts,
        CASE WHEN d.state = 'pending' THEN d.next_attempt_at END AS "nextAttemptAt",
        d.delivered_at AS "deliveredAt", d.last_error AS "lastError",
        coalesce((SELECT json_agg(json_build_object(
            'attempt', a.attempt, 'startedAt', a.started_at, 'latencyMs', a.latency_ms, 'outcome', a.outcome,
            'statusCode', a.status_code, 'responseExcerpt', a.response_excerpt, 'error', a.error) ORDER BY a.id)
          FROM delivery_attempts a WHERE a.delivery_id = d.id), '[]') AS log
       FROM deliveries d WHERE d.event_id = $1 ORDER BY d.id`,
    values: [eventId],
  });
  return rows.map((r) => ({ ...r, log: r.log.map((a) => ({ ...a, startedAt: new Date(a.startedAt) })) }));
}

/**
 * Sends an event again: its finished deliveries (dead or delivered) to targets still active become
 * due now with a fresh schedule. Returns how many were queued.
 */
export async function requeueDeliveries(q: Queryable, eventId: string, brokers: readonly string[]): Promise<number> {
  const { rowCount } = await q.query({
    name: 'requeue_deliveries',
    text: `UPDATE deliveries d SET state = 'pending', step = 0, next_attempt_at = now(), delivered_at = NULL
      WHERE d.event_id = $1 AND d.state <> 'pending'
        AND (d.target = ANY ($2::text[])
             OR EXISTS (SELECT 1 FROM webhook_endpoints w
                         WHERE w.id = d.endpoint_id AND w.deleted_at IS NULL AND w.disabled_at IS NULL))`,
    values: [eventId, brokers],
  });
  return rowCount ?? 0;
}

export interface OutboxStats {
  pending: number;
  oldestPendingSeconds: number;
  dead: number;
}

export async function outboxStats(q: Queryable): Promise<OutboxStats> {
  const { rows } = await q.query<OutboxStats>({
    name: 'outbox_stats',
    text: `SELECT
        (SELECT count(*) FROM deliveries WHERE state = 'pending')::int AS pending,
        coalesce((SELECT extract(epoch FROM now() - min(created_at)) FROM deliveries WHERE state = 'pending'), 0)::float8
          AS "oldestPendingSeconds",
        (SELECT count(*) FROM deliveries WHERE state = 'dead')::int AS dead`,
    values: [],
  });
  return rows[0]!;
}
