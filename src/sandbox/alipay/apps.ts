// The apps (merchants) the Alipay bank knows: an app id, the app's public key that verifies its
// requests, and the seller (the merchant's Alipay user id) its trades pay into.
import type { KeyObject } from 'node:crypto';
import { LedgerCache, reusedPublicKey } from '../ledger-cache.ts';
import { parseMerchantPublicKey } from '../rsa.ts';
import { findApp, listApps, upsertApp, type AppRow, type Queryable } from './store.ts';
import { newAlipayUserId } from './wire-format.ts';

/** Checked before any lookup too: a request's app_id reaches the ledger only when it could name an app. */
export const APP_ID = /^[0-9A-Za-z_]{1,32}$/;
const SELLER_ID = /^2088\d{12}$/;
const REGISTRATION_FIELDS = new Set(['appId', 'appPublicKey', 'sellerId']);

export interface App {
  appId: string;
  sellerId: string;
  publicKey: KeyObject;
  /** What publicKey was parsed from. */
  publicKeyPem: string;
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

/** The apps, cached with parsed keys (../ledger-cache.ts). */
export class AppDirectory {
  private readonly cache: LedgerCache<App>;

  constructor(private readonly db: Queryable) {
    this.cache = new LedgerCache(async (appId, previous) => {
      const row = await findApp(this.db, appId);
      return row && appOf(row, previous);
    });
  }

  /** The app by app_id; `fresh` skips the cache (after a failed signature check). */
  async get(appId: string, options: { fresh: boolean } = { fresh: false }): Promise<App | undefined> {
    if (!APP_ID.test(appId)) return undefined;
    return this.cache.get(appId, options);
  }

  async register(r: AppRegistration): Promise<AppRow> {
    const row = await upsertApp(this.db, { ...r, newSellerId: newAlipayUserId() }, new Date());
    this.cache.set(row.appId, appOf(row, this.cache.peek(row.appId)));
    return row;
  }

  list(): Promise<AppRow[]> {
    return listApps(this.db);
  }
}

function appOf(row: AppRow, previous: App | undefined): App {
  const publicKeyPem = row.appPublicKeyPem;
  return { appId: row.appId, sellerId: row.sellerId, publicKeyPem, publicKey: reusedPublicKey(publicKeyPem, previous) };
}
