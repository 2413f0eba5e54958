// Webhook endpoints: where an app's events are POSTed, each with its own signing secret.
import type { Pool } from '../store/db.ts';
import {
  deleteWebhookEndpoint as deleteRow,
  findWebhookEndpoint,
  insertWebhookEndpoint,
  listWebhookEndpoints as listRows,
  replaceConfiguredWebhookEndpoint,
  type WebhookEndpointRow,
} from '../store/webhook-endpoints.ts';
import { PaycenterError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { newWebhookSecret } from '../domain/webhook-signature.ts';
import type { EventType } from '../domain/events.ts';
import type { ServiceContext } from './context.ts';

export interface WebhookEndpointView {
  id: string;
  url: string;
  /** Null: every event type. */
  events: EventType[] | null;
  createdAt: string;
  disabledAt: string | null;
  disabledReason: string | null;
}

function endpointView(r: WebhookEndpointRow): WebhookEndpointView {
  return {
    id: r.id,
    url: r.url,
    events: r.eventTypes as EventType[] | null,
    createdAt: r.createdAt.toISOString(),
    disabledAt: r.disabledAt?.toISOString() ?? null,
    disabledReason: r.disabledReason,
  };
}

/** http(s) only, and no credentials in the URL: they would end up in logs and screens. */
function checkWebhookUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PaycenterError('invalid_webhook_url', 'url must be an absolute http:// or https:// URL.', { field: 'url' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new PaycenterError('invalid_webhook_url', 'url must start with http:// or https://.', { field: 'url' });
  }
  if (parsed.username || parsed.password) {
    throw new PaycenterError(
      'invalid_webhook_url',
      'url must not carry a user name or password: verify the webhook-signature header instead.',
      { field: 'url' },
    );
  }
}

/** The secret is in this answer only; keep it to verify signatures. */
export async function createWebhookEndpoint(
  ctx: ServiceContext,
  appId: string,
  input: { url: string; events?: EventType[] },
): Promise<WebhookEndpointView & { secret: string }> {
  checkWebhookUrl(input.url);
  const secret = newWebhookSecret();
  const eventTypes = input.events ? [...new Set(input.events)] : null;
  const row = await insertWebhookEndpoint(ctx.pool, { id: newId('we'), appId, url: input.url, secret, eventTypes });
  return { ...endpointView(row), secret };
}

export async function listWebhookEndpoints(ctx: ServiceContext, appId: string): Promise<WebhookEndpointView[]> {
  return (await listRows(ctx.pool, appId)).map(endpointView);
}

export async function getWebhookEndpoint(ctx: ServiceContext, appId: string, id: string): Promise<WebhookEndpointView> {
  const row = await findWebhookEndpoint(ctx.pool, appId, id);
  if (!row) throw endpointNotFound(id);
  return endpointView(row);
}

/** Pending deliveries to it stop; its history stays visible on the events. */
export async function deleteWebhookEndpoint(ctx: ServiceContext, appId: string, id: string): Promise<void> {
  if (!(await deleteRow(ctx.pool, appId, id))) throw endpointNotFound(id);
}

function endpointNotFound(id: string): PaycenterError {
  return new PaycenterError('not_found', `No webhook endpoint ${id} in this app; list them with GET /v1/webhook-endpoints.`);
}

/**
 * PAYCENTER_WEBHOOK_URL (and _SECRET) at start-up: the default app's configured endpoint is made,
 * kept, or replaced when the URL or secret changed. Returns the secret when it was generated now.
 */
export async function applyConfiguredWebhookEndpoint(
  pool: Pool,
  appId: string,
  url: string | undefined,
  secret: string | undefined,
): Promise<{ generatedSecret: string | undefined }> {
  if (url !== undefined) checkWebhookUrl(url);
  const generated = url !== undefined && secret === undefined ? newWebhookSecret() : undefined;
  const kept = await replaceConfiguredWebhookEndpoint(pool, { id: newId('we'), appId, url, secret: secret ?? generated });
  return { generatedSecret: kept === 'created' ? generated : undefined };
}
