// The merchants the bank knows, cached in memory with parsed keys (../ledger-cache.ts).
import { createPublicKey, type KeyObject } from 'node:crypto';
import { LedgerCache } from '../ledger-cache.ts';
import { parseMerchantPublicKey } from '../rsa.ts';
import { findMerchant, listMerchants, upsertMerchant, type MerchantRow, type Queryable } from './store.ts';

const API_V3_KEY_BYTES = 32;

export interface Merchant {
  mchId: string;
  appId: string;
  certSerialNo: string;
  publicKey: KeyObject;
  /** The APIv3 key's bytes: the AES-256-GCM key of notification resources. */
  apiV3Key: Buffer;
}

export interface MerchantRegistration {
  mchId: string;
  appId: string;
  merchantPublicKeyPem: string;
  merchantCertSerialNo: string;
  apiV3Key: string;
}

const REGISTRATION_FIELDS = new Set(['mchId', 'appId', 'merchantPublicKey', 'merchantCertSerialNo', 'apiV3Key']);

export type RegistrationParse = { ok: true; registration: MerchantRegistration } | { ok: false; message: string };

export function parseMerchantRegistration(body: unknown): RegistrationParse {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, message: 'body must be a JSON object' };
  const b = body as Record<string, unknown>;
  const { mchId, appId, merchantPublicKey, merchantCertSerialNo, apiV3Key } = b;
  if (typeof mchId !== 'string' || !/^[0-9A-Za-z_-]{1,32}$/.test(mchId)) {
    return { ok: false, message: 'mchId must be 1-32 letters, digits, _ or -' };
  }
  if (typeof appId !== 'string' || !/^[0-9A-Za-z_-]{1,32}$/.test(appId)) {
    return { ok: false, message: 'appId must be 1-32 letters, digits, _ or -' };
  }
  if (typeof merchantCertSerialNo !== 'string' || !/^[0-9A-Za-z]{1,64}$/.test(merchantCertSerialNo)) {
    return { ok: false, message: 'merchantCertSerialNo must be 1-64 letters or digits' };
  }
  if (typeof apiV3Key !== 'string' || Buffer.byteLength(apiV3Key, 'utf8') !== API_V3_KEY_BYTES) {
    return { ok: false, message: 'apiV3Key must be exactly 32 bytes' };
  }
  const key = parseMerchantPublicKey('merchantPublicKey', merchantPublicKey);
  if (!key.ok) return key;
  const unknown = Object.keys(b).filter((k) => !REGISTRATION_FIELDS.has(k));
  if (unknown.length > 0) return { ok: false, message: `unknown fields: ${unknown.join(', ')}` };
  return {
    ok: true,
    registration: {
      mchId,
      appId,
      merchantCertSerialNo,
      apiV3Key,
      merchantPublicKeyPem: key.publicKeyPem,
    },
  };
}

interface CacheEntry {
  merchant: Merchant;
  publicKeyPem: string;
}

export class MerchantDirectory {
  private readonly cache: LedgerCache<CacheEntry>;

  constructor(private readonly db: Queryable) {
    this.cache = new LedgerCache(async (mchId, previous) => {
      const row = await findMerchant(this.db, mchId);
      return row && entryOf(row, previous);
    });
  }

  /** The merchant by mchid; `fresh` skips the cache (after a failed signature check). */
  async get(mchId: string, options: { fresh: boolean } = { fresh: false }): Promise<Merchant | undefined> {
    return (await this.cache.get(mchId, options))?.merchant;
  }

  async register(r: MerchantRegistration): Promise<void> {
    await upsertMerchant(this.db, r, new Date());
    this.cache.set(r.mchId, entryOf(r, this.cache.peek(r.mchId)));
  }

  list(): Promise<MerchantRow[]> {
    return listMerchants(this.db);
  }
}

/** The key is parsed again only when the row's PEM changed. */
function entryOf(row: Omit<MerchantRow, 'registeredAt'>, previous: CacheEntry | undefined): CacheEntry {
  const publicKey =
    previous && previous.publicKeyPem === row.merchantPublicKeyPem ? previous.merchant.publicKey : createPublicKey(row.merchantPublicKeyPem);
  return {
    merchant: {
      mchId: row.mchId,
      appId: row.appId,
      certSerialNo: row.merchantCertSerialNo,
      publicKey,
      apiV3Key: Buffer.from(row.apiV3Key, 'utf8'),
    },
    publicKeyPem: row.merchantPublicKeyPem,
  };
}
