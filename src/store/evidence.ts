// The evidence trail behind the timeline: notifications received and channel calls made.
import type { Queryable } from './db.ts';

export interface NewNotification {
  channel: string;
  notificationId: string | null;
  verified: boolean;
  refusalReason: string | null;
  /** What the notification said (`paid`, …) or `refused`. */
  outcome: string;
  outTradeNo: string | null;
  /** A refund notification's refund number. */
  outRefundNo?: string | null;
  orderId: string | null;
  headers: Record<string, unknown>;
  body: string;
}

/**
 * Stores a received notification. A verified one is stored once per channel notification id;
 * returns null when that id was already stored (a duplicate delivery).
 */
export async function insertNotification(q: Queryable, n: NewNotification): Promise<{ id: number } | null> {
  const { rows } = await q.query<{ id: number }>({
    name: 'insert_notification',
    text: `INSERT INTO notifications (channel, notification_id, verified, refusal_reason, outcome, out_trade_no, order_id, headers, body, out_refund_no)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (channel, notification_id) WHERE verified DO NOTHING
     RETURNING id`,
    values: [n.channel, n.notificationId, n.verified, n.refusalReason, n.outcome, n.outTradeNo, n.orderId, JSON.stringify(n.headers), n.body, n.outRefundNo ?? null],
  });
  return rows[0] ?? null;
}

export type ChannelOperation = 'create' | 'query' | 'close' | 'refund' | 'refund_query';

export interface NewChannelCall {
  orderId: string;
  attemptId: string;
  operation: ChannelOperation;
  outcome: string;
  detail: string | null;
  latencyMs: number;
}

export async function insertChannelCall(q: Queryable, c: NewChannelCall): Promise<void> {
  await q.query({
    name: 'insert_channel_call',
    text: `INSERT INTO channel_calls (order_id, attempt_id, operation, outcome, detail, latency_ms) VALUES ($1, $2, $3, $4, $5, $6)`,
    values: [c.orderId, c.attemptId, c.operation, c.outcome, c.detail, c.latencyMs],
  });
}

export interface TimelineEntry {
  at: string;
  kind: 'transition' | 'notification' | 'channel_call';
  [field: string]: unknown;
}

/** The order's story in time order: transitions, notifications and channel calls. */
export async function orderTimeline(q: Queryable, orderId: string, limit: number): Promise<TimelineEntry[]> {
  const { rows } = await q.query<{ at: Date; kind: TimelineEntry['kind']; detail: Record<string, unknown> }>(
    `SELECT at, kind, detail FROM (
       SELECT at, id, 'transition' AS kind, jsonb_build_object('entity', entity, 'entityId', entity_id,
         'from', from_state, 'to', to_state, 'reason', reason) AS detail
       FROM transitions WHERE order_id = $1
       UNION ALL
       SELECT received_at, id, 'notification', jsonb_build_object('channel', channel, 'notificationId', notification_id,
         'verified', verified, 'refusalReason', refusal_reason, 'outcome', outcome, 'outRefundNo', out_refund_no)
       FROM notifications WHERE order_id = $1
       UNION ALL
       SELECT at, id, 'channel_call', jsonb_build_object('attemptId', attempt_id, 'operation', operation,
         'outcome', outcome, 'detail', detail, 'latencyMs', latency_ms)
       FROM channel_calls WHERE order_id = $1
     ) t ORDER BY at, kind, id LIMIT $2`,
    [orderId, limit],
  );
  return rows.map((r) => ({ at: r.at.toISOString(), kind: r.kind, ...r.detail }));
}
