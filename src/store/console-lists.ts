// What the console lists across every app: events with their delivery states, refused
// notifications, apps with their webhook endpoints. Every list is a keyset page (never OFFSET):
// the caller asks for one row more than it shows to learn whether another page follows.
// The statements are unnamed on purpose: their optional filters ($n IS NULL OR …) need a plan
// made for the values given, which a prepared statement's generic plan would not be.
import { queryOne, type Queryable } from './db.ts';
import type { EventType } from '../domain/events.ts';

export interface ConsoleEventRow {
  id: string;
  appId: string;
  appName: string;
  orderId: string;
  type: EventType;
  sequence: number;
  createdAt: Date;
  /** The keyset cursor: the insert order of events. */
  position: number;
  delivered: number;
  pending: number;
  dead: number;
}

export interface ConsoleEventFilter {
  type: string | null;
  orderId: string | null;
  /** Only events with at least one dead delivery. */
  deadOnly: boolean;
  /** The position of the last event of the previous page. */
  beforePosition: number | null;
}

/** Newest first, with how many of each event's deliveries are delivered, pending and dead. */
export async function listConsoleEvents(q: Queryable, f: ConsoleEventFilter, limit: number): Promise<ConsoleEventRow[]> {
  const { rows } = await q.query<ConsoleEventRow>(
    `SELECT e.id, e.app_id AS "appId", a.name AS "appName", e.order_id AS "orderId", e.type, e.sequence,
            e.created_at AS "createdAt", e.position, d.delivered, d.pending, d.dead
       FROM events e
       JOIN apps a ON a.id = e.app_id
       CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE state = 'delivered')::int AS delivered,
                count(*) FILTER (WHERE state = 'pending')::int AS pending,
                count(*) FILTER (WHERE state = 'dead')::int AS dead
           FROM deliveries WHERE event_id = e.id
       ) d
      WHERE ($1::text IS NULL OR e.type = $1)
        AND ($2::text IS NULL OR e.order_id = $2)
        AND (NOT $3 OR e.id IN (SELECT event_id FROM deliveries WHERE state = 'dead'))
        AND ($4::bigint IS NULL OR e.position < $4)
      ORDER BY e.position DESC
      LIMIT $5`,
    [f.type, f.orderId, f.deadOnly, f.beforePosition, limit],
  );
  return rows;
}

/** Which app and order an event belongs to, whatever the app. */
export async function findEventOwner(q: Queryable, id: string): Promise<{ appId: string; appName: string; orderId: string } | null> {
  return queryOne(
    q,
    'console_find_event_owner',
    `SELECT e.app_id AS "appId", a.name AS "appName", e.order_id AS "orderId" FROM events e JOIN apps a ON a.id = e.app_id WHERE e.id = $1`,
    [id],
  );
}

/** Endpoint id → URL, deleted endpoints included (their past deliveries still name them). */
export async function endpointUrls(q: Queryable, ids: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await q.query<{ id: string; url: string }>('SELECT id, url FROM webhook_endpoints WHERE id = ANY($1::text[])', [ids]);
  return new Map(rows.map((r) => [r.id, r.url]));
}

export interface RefusedNotificationRow {
  id: number;
  channel: string;
  notificationId: string | null;
  refusalReason: string | null;
  outTradeNo: string | null;
  outRefundNo: string | null;
  orderId: string | null;
  headers: Record<string, unknown>;
  /** Whole (a masker cannot read a cut JSON body); bounded when stored (64 KiB). */
  body: string;
  receivedAt: Date;
}

/** Refused (unverified) notifications, newest first; `beforeId` is the last of the previous page. */
export async function listRefusedNotifications(q: Queryable, beforeId: number | null, limit: number): Promise<RefusedNotificationRow[]> {
  const { rows } = await q.query<RefusedNotificationRow>(
    `SELECT id, channel, notification_id AS "notificationId", refusal_reason AS "refusalReason", out_trade_no AS "outTradeNo",
            out_refund_no AS "outRefundNo", order_id AS "orderId", headers, body, received_at AS "receivedAt"
       FROM notifications
      WHERE NOT verified
        AND ($1::bigint IS NULL OR (received_at, id) < (SELECT received_at, id FROM notifications WHERE id = $1))
      ORDER BY received_at DESC, id DESC
      LIMIT $2`,
    [beforeId, limit],
  );
  return rows;
}

export interface ConsoleAppRow {
  id: string;
  name: string;
  isDefault: boolean;
  createdAt: Date;
}

const APP_COLUMNS = `id, name, is_default AS "isDefault", created_at AS "createdAt"`;

/** Oldest first (the default app leads); `afterId` is the last app of the previous page. */
export async function listApps(q: Queryable, afterId: string | null, limit: number): Promise<ConsoleAppRow[]> {
  const { rows } = await q.query<ConsoleAppRow>(
    `SELECT ${APP_COLUMNS} FROM apps
      WHERE $1::text IS NULL OR (created_at, id) > (SELECT created_at, id FROM apps WHERE id = $1)
      ORDER BY created_at, id LIMIT $2`,
    [afterId, limit],
  );
  return rows;
}

export async function findApp(q: Queryable, id: string): Promise<ConsoleAppRow | null> {
  return queryOne<ConsoleAppRow>(q, 'console_find_app', `SELECT ${APP_COLUMNS} FROM apps WHERE id = $1`, [id]);
}

/** Replaces the app's key hash; null when there is no such app. One statement: two rotations queue on the row. */
export async function setAppKeyHashReturning(q: Queryable, id: string, apiKeyHash: string): Promise<ConsoleAppRow | null> {
  return queryOne<ConsoleAppRow>(q, 'console_set_app_key_hash', `UPDATE apps SET api_key_hash = $2 WHERE id = $1 RETURNING ${APP_COLUMNS}`, [id, apiKeyHash]);
}

/** A webhook endpoint as the console shows it: never its secret. */
export interface ConsoleEndpointRow {
  id: string;
  appId: string;
  url: string;
  eventTypes: string[] | null;
  fromConfig: boolean;
  createdAt: Date;
  disabledAt: Date | null;
  disabledReason: string | null;
}

/** Far above what an app uses; keeps a page bounded whatever is in the table. */
const ENDPOINTS_LISTED_MAX = 1000;

/** The endpoints (not deleted) of these apps, oldest first. */
export async function listEndpointsOfApps(q: Queryable, appIds: readonly string[]): Promise<ConsoleEndpointRow[]> {
  const { rows } = await q.query<ConsoleEndpointRow>(
    `SELECT id, app_id AS "appId", url, event_types AS "eventTypes", from_config AS "fromConfig", created_at AS "createdAt",
            disabled_at AS "disabledAt", disabled_reason AS "disabledReason"
       FROM webhook_endpoints WHERE app_id = ANY($1::text[]) AND deleted_at IS NULL
      ORDER BY created_at, id LIMIT $2`,
    [appIds, ENDPOINTS_LISTED_MAX],
  );
  return rows;
}
