// The transactional outbox: the event row and its deliveries, written in the state change's own
// transaction (G4), and the feed that polling consumers read.
import { queryOne, type Queryable, type Tx } from './db.ts';
import type { EventType } from '../domain/events.ts';
import type { BrokerTarget } from '../delivery/types.ts';

export interface NewEvent {
  id: string;
  appId: string;
  orderId: string;
  type: EventType;
  data: unknown;
}

export interface EventRow {
  id: string;
  appId: string;
  orderId: string;
  type: EventType;
  sequence: number;
  data: unknown;
  createdAt: Date;
}

const EVENT_COLUMNS = `id, app_id AS "appId", order_id AS "orderId", type, sequence, data, created_at AS "createdAt"`;

/**
 * Takes the order's next sequence number, writes the event and one pending delivery per active
 * webhook endpoint of the app that wants this type and per configured broker — one statement.
 * Returns how many deliveries were written.
 */
export async function insertEvent(tx: Tx, e: NewEvent, brokers: readonly BrokerTarget[]): Promise<number> {
  const { rows } = await tx.query<{ deliveries: number }>({
    name: 'insert_event',
    text: `WITH seq AS (
       UPDATE orders SET event_sequence = event_sequence + 1 WHERE id = $3 RETURNING event_sequence
     ), ev AS (
       INSERT INTO events (id, app_id, order_id, type, sequence, data)
       SELECT $1, $2, $3, $4, event_sequence, $5 FROM seq
       RETURNING id
     ), d AS (
       INSERT INTO deliveries (event_id, target, endpoint_id)
       SELECT ev.id, 'webhook', w.id FROM ev, webhook_endpoints w
        WHERE w.app_id = $2 AND w.deleted_at IS NULL AND w.disabled_at IS NULL
          AND (w.event_types IS NULL OR $4 = ANY (w.event_types))
       UNION ALL
       SELECT ev.id, b.target, NULL FROM ev, unnest($6::text[]) AS b (target)
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM d)::int AS deliveries FROM ev`,
    values: [e.id, e.appId, e.orderId, e.type, JSON.stringify(e.data), brokers],
  });
  return rows[0]!.deliveries;
}

/**
 * The app's events after `after` (an event id; null: from the start), oldest first. Events of
 * transactions that may still be followed by an earlier-ordered commit are held back (see the
 * migration), so a consumer that resumes after the last id it saw never misses one.
 */
export async function listEventsAfter(q: Queryable, appId: string, after: string | null, limit: number): Promise<EventRow[]> {
  const { rows } = await q.query<EventRow>({
    name: 'list_events_after',
    text: `SELECT ${EVENT_COLUMNS} FROM events
      WHERE app_id = $1
        AND txid < pg_snapshot_xmin(pg_current_snapshot())
        AND ($2::text IS NULL OR (txid, position) > (SELECT txid, position FROM events WHERE id = $2))
      ORDER BY txid, position
      LIMIT $3`,
    values: [appId, after, limit],
  });
  return rows;
}

export async function findEvent(q: Queryable, appId: string, id: string): Promise<EventRow | null> {
  return queryOne<EventRow>(q, 'find_event', `SELECT ${EVENT_COLUMNS} FROM events WHERE id = $1 AND app_id = $2`, [id, appId]);
}
