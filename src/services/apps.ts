// Merchant apps made and keyed from the console. An API key is returned once, here, and stored
// as its SHA-256 only; whoever loses it rotates it.
import { insertApp } from '../store/apps.ts';
import { findApp, setAppKeyHashReturning } from '../store/console-lists.ts';
import { sha256 } from '../domain/fingerprint.ts';
import { newApiKey, newId } from '../domain/ids.ts';
import { PaycenterError } from '../domain/errors.ts';
import type { EventType } from '../domain/events.ts';
import { createWebhookEndpoint, type WebhookEndpointView } from './webhook-endpoints.ts';
import type { ServiceContext } from './context.ts';

export const APP_NAME_LENGTH_MAX = 100;

export interface NewApiKey {
  appId: string;
  name: string;
  /** Shown once; only its hash is kept. */
  apiKey: string;
}

export async function createApp(ctx: ServiceContext, name: string): Promise<NewApiKey> {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > APP_NAME_LENGTH_MAX) {
    throw new PaycenterError('invalid_request', `name: 1 to ${APP_NAME_LENGTH_MAX} characters, e.g. the shop or service that will call the API.`, {
      field: 'name',
    });
  }
  const appId = newId('app');
  const apiKey = newApiKey();
  await insertApp(ctx.pool, appId, trimmed, sha256(apiKey));
  ctx.log.info({ appId }, 'app created');
  return { appId, name: trimmed, apiKey };
}

/**
 * A new key for the app; the old one is refused from now on, except by a process that cached it
 * (at most 30 s, see api/auth.ts).
 */
export async function rotateApiKey(ctx: ServiceContext, appId: string): Promise<NewApiKey> {
  const apiKey = newApiKey();
  const app = await setAppKeyHashReturning(ctx.pool, appId, sha256(apiKey));
  if (!app) throw appNotFound(appId);
  ctx.log.info({ appId }, 'app API key rotated');
  return { appId, name: app.name, apiKey };
}

/** A webhook endpoint for any app (the merchant API adds them only to the caller's own). */
export async function addAppWebhookEndpoint(
  ctx: ServiceContext,
  appId: string,
  input: { url: string; events?: EventType[] },
): Promise<WebhookEndpointView & { secret: string }> {
  if (!(await findApp(ctx.pool, appId))) throw appNotFound(appId);
  return createWebhookEndpoint(ctx, appId, input);
}

function appNotFound(appId: string): PaycenterError {
  return new PaycenterError('not_found', `No app ${appId}; see the list of apps.`);
}
