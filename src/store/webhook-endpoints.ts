// Webhook endpoints of an app. Deleting keeps the row (deliveries and their log refer to it).
import { queryOne, withTransaction, type Pool, type Queryable } from './db.ts';

export interface WebhookEndpointRow {
  id: string;
  appId: string;
  url: string;
  secret: string;
  /** Null: every event type. */
  eventTypes: string[] | null;
  createdAt: Date;
  disabledAt: Date | null;
  disabledReason: string | null;
}

const COLUMNS = `id, app_id AS "appId", url, secret, event_types AS "eventTypes", created_at AS "createdAt",
  disabled_at AS "disabledAt", disabled_reason AS "disabledReason"`;

export async function insertWebhookEndpoint(
  q: Queryable,
  e: { id: string; appId: string; url: string; secret: string; eventTypes: string[] | null },
): Promise<WebhookEndpointRow> {
  const { rows } = await q.query<WebhookEndpointRow>(
    `INSERT INTO webhook_endpoints (id, app_id, url, secret, event_types) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [e.id, e.appId, e.url, e.secret, e.eventTypes],
  );
  return rows[0]!;
}

/** The app's endpoints that were not deleted, oldest first. */
export async function listWebhookEndpoints(q: Queryable, appId: string): Promise<WebhookEndpointRow[]> {
  const { rows } = await q.query<WebhookEndpointRow>(
    `SELECT ${COLUMNS} FROM webhook_endpoints WHERE app_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`,
    [appId],
  );
  return rows;
}

export async function findWebhookEndpoint(q: Queryable, appId: string, id: string): Promise<WebhookEndpointRow | null> {
  return queryOne<WebhookEndpointRow>(
    q,
    'find_webhook_endpoint',
    `SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1 AND app_id = $2 AND deleted_at IS NULL`,
    [id, appId],
  );
}

/** True when the endpoint existed and is now deleted; its pending deliveries stop with it. */
export async function deleteWebhookEndpoint(q: Queryable, appId: string, id: string): Promise<boolean> {
  const { rowCount } = await q.query(
    `WITH gone AS (
       UPDATE webhook_endpoints SET deleted_at = now() WHERE id = $1 AND app_id = $2 AND deleted_at IS NULL RETURNING id
     ), stopped AS (
       UPDATE deliveries SET state = 'dead', last_error = 'endpoint deleted'
        WHERE endpoint_id IN (SELECT id FROM gone) AND state = 'pending'
     )
     SELECT id FROM gone`,
    [id, appId],
  );
  return rowCount === 1;
}

/** After a 410 Gone: no new deliveries, and the pending ones stop. */
export async function disableWebhookEndpoint(q: Queryable, id: string, reason: string): Promise<void> {
  await q.query(
    `WITH off AS (
       UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = $2 WHERE id = $1 AND disabled_at IS NULL RETURNING id
     )
     UPDATE deliveries SET state = 'dead', last_error = 'endpoint disabled: ' || $2
      WHERE endpoint_id IN (SELECT id FROM off) AND state = 'pending'`,
    [id, reason],
  );
}

/** Serializes start-ups that apply PAYCENTER_WEBHOOK_URL at the same moment. */
const CONFIGURED_ENDPOINT_LOCK = 4_242_002;

/**
 * Makes the app's configured endpoint match `url` and `secret` (secret undefined: keep the one
 * it has). Other configured endpoints are deleted; none remain when `url` is undefined.
 */
export async function replaceConfiguredWebhookEndpoint(
  pool: Pool,
  e: { id: string; appId: string; url: string | undefined; secret: string | undefined },
): Promise<'created' | 'kept' | 'none'> {
  return withTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [CONFIGURED_ENDPOINT_LOCK]);
    const { rows } = await tx.query<{ id: string }>(
      `SELECT id FROM webhook_endpoints
        WHERE app_id = $1 AND from_config AND deleted_at IS NULL AND disabled_at IS NULL
          AND url = $2 AND ($3::text IS NULL OR secret = $3)`,
      [e.appId, e.url ?? null, e.secret ?? null],
    );
    const keep = rows[0]?.id ?? null;
    const { rows: stale } = await tx.query<{ id: string }>(
      `SELECT id FROM webhook_endpoints WHERE app_id = $1 AND from_config AND deleted_at IS NULL AND id IS DISTINCT FROM $2`,
      [e.appId, keep],
    );
    for (const { id } of stale) await deleteWebhookEndpoint(tx, e.appId, id);
    if (keep) return 'kept';
    if (e.url === undefined || e.secret === undefined) return 'none';
    await tx.query(
      `INSERT INTO webhook_endpoints (id, app_id, url, secret, from_config) VALUES ($1, $2, $3, $4, true)`,
      [e.id, e.appId, e.url, e.secret],
    );
    return 'created';
  });
}
