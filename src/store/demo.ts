// The demo shop's own rows (migration 006_demo.sql): its app and webhook endpoint, and what its
// webhook handler learnt from each event.
import type { Queryable } from './db.ts';

export interface DemoShopRow {
  appId: string;
  apiKey: string;
  webhookEndpointId: string;
  /** The endpoint's URL and secret; null when it was deleted or disabled since (it is then replaced). */
  webhookUrl: string | null;
  webhookSecret: string | null;
}

/** Serializes start-ups that make or repair the demo shop at the same moment. */
const DEMO_SHOP_LOCK = 4_242_006;

export async function lockDemoShop(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [DEMO_SHOP_LOCK]);
}

export async function findDemoShop(q: Queryable): Promise<DemoShopRow | null> {
  const { rows } = await q.query<DemoShopRow>(
    `SELECT s.app_id AS "appId", s.api_key AS "apiKey", s.webhook_endpoint_id AS "webhookEndpointId",
            e.url AS "webhookUrl", e.secret AS "webhookSecret"
       FROM demo_shop s
       LEFT JOIN webhook_endpoints e ON e.id = s.webhook_endpoint_id AND e.deleted_at IS NULL AND e.disabled_at IS NULL`,
  );
  return rows[0] ?? null;
}

export async function insertDemoShop(tx: Queryable, shop: { appId: string; apiKey: string; webhookEndpointId: string }): Promise<void> {
  await tx.query('INSERT INTO demo_shop (app_id, api_key, webhook_endpoint_id) VALUES ($1, $2, $3)', [
    shop.appId,
    shop.apiKey,
    shop.webhookEndpointId,
  ]);
}

export async function setDemoShopEndpoint(tx: Queryable, webhookEndpointId: string): Promise<void> {
  const { rowCount } = await tx.query('UPDATE demo_shop SET webhook_endpoint_id = $1', [webhookEndpointId]);
  if (rowCount !== 1) throw new Error(`demo shop endpoint ${webhookEndpointId} not set: no demo_shop row`);
}

/** Written by the shop's handler in the inbox's transaction, right after the kit's insert. */
export async function setInboxOrderState(tx: Queryable, eventId: string, orderState: string): Promise<void> {
  const { rowCount } = await tx.query('UPDATE demo_inbox SET order_state = $2 WHERE event_id = $1', [eventId, orderState]);
  if (rowCount !== 1) throw new Error(`demo inbox has no row for event ${eventId}`);
}

export interface ReceivedWebhookRow {
  eventId: string;
  type: string;
  orderState: string;
  sequence: number;
  receivedAt: Date;
}

/** The events the shop applied for one order, in the order's sequence. */
export async function listReceivedWebhooks(q: Queryable, orderId: string, limit: number): Promise<ReceivedWebhookRow[]> {
  const { rows } = await q.query<ReceivedWebhookRow>(
    `SELECT event_id AS "eventId", type, order_state AS "orderState", sequence, processed_at AS "receivedAt"
       FROM demo_inbox WHERE order_id = $1 ORDER BY sequence, processed_at LIMIT $2`,
    [orderId, limit],
  );
  return rows;
}
