// The apps (merchants) the Alipay bank knows: an app id, the app's public key that verifies its
// requests, and the seller (the merchant's Alipay user id) its trades pay into.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { parseMerchantPublicKey } from '../rsa.ts';
import { findApp, upsertApp, type AppRow, type Queryable } from './store.ts';
import { newAlipayUserId } from './wire-format.ts';

const APP_ID = /^[0-9A-Za-z_]{1,32}$/;
const SELLER_ID = /^2088\d{12}$/;
const REGISTRATION_FIELDS = new Set(['appId', 'appPublicKey', 'sellerId']);

export interface App {
  appId: string;
  sellerId: string;
  publicKey: KeyObject;
}

export interface AppRegistration {
  appId: string;
  appPublicKeyPem: string;
  /** Absent: a new app gets one assigned, a known app keeps its own. */
  sellerId: string | undefined;
}

export type AppRegistrationParse = { ok: true; registration: AppRegistration } | { ok: false; message: string };

export function parseAppRegistration(body: unknown): AppRegistrationParse {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, message: 'body must be a JSON object' };
  const b = body as Record<string, unknown>;
  const { appId, appPublicKey, sellerId } = b;
  if (typeof appId !== 'string' || !APP_ID.test(appId)) return { ok: false, message: 'appId must be 1-32 letters, digits or _' };
  if (sellerId !== undefined && (typeof sellerId !== 'string' || !SELLER_ID.test(sellerId))) {
    return { ok: false, message: 'sellerId must be 2088 followed by 12 digits' };
  }
  const key = parseMerchantPublicKey('appPublicKey', appPublicKey);
  if (!key.ok) return key;
  const unknown = Object.keys(b).filter((k) => !REGISTRATION_FIELDS.has(k));
  if (unknown.length > 0) return { ok: false, message: `unknown fields: ${unknown.join(', ')}` };
  return { ok: true, registration: { appId, appPublicKeyPem: key.publicKeyPem, sellerId } };
}

export function registerApp(db: Queryable, r: AppRegistration): Promise<AppRow> {
  return upsertApp(db, { ...r, newSellerId: newAlipayUserId() }, new Date());
}

/**
 * Read from the ledger on every request, never cached: a re-registration by another sandbox
 * process takes effect at once, and one indexed read costs little next to the RSA check.
 */
export async function findRegisteredApp(db: Queryable, appId: string): Promise<App | undefined> {
  const row = await findApp(db, appId);
  return row && { appId: row.appId, sellerId: row.sellerId, publicKey: createPublicKey(row.appPublicKeyPem) };
}
