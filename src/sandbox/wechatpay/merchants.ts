// The merchants the bank knows, cached in memory with parsed keys (../ledger-cache.ts).
import type { KeyObject } from 'node:crypto';
import { LedgerCache, reusedPublicKey } from '../ledger-cache.ts';
import { parseMerchantPublicKey } from '../rsa.ts';
import { findMerchant, listMerchants, upsertMerchant, type MerchantRow, type Queryable } from './store.ts';

const API_V3_KEY_BYTES = 32;

export interface Merchant {
  mchId: string;
  appId: string;
  certSerialNo: string;
  publicKey: KeyObject;
  /** What publicKey was parsed from. */
  publicKeyPem: string;
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

export class MerchantDirectory {
  private readonly cache: LedgerCache<Merchant>;

  constructor(private readonly db: Queryable) {
    this.cache = new LedgerCache(async (mchId, previous) => {
      const row = await findMerchant(this.db, mchId);
      return row && merchantOf(row, previous);
    });
  }

  /** The merchant by mchid; `fresh` skips the cache (after a failed signature check). */
  async get(mchId: string, options: { fresh: boolean } = { fresh: false }): Promise<Merchant | undefined> {
    return this.cache.get(mchId, options);
  }

  async register(r: MerchantRegistration): Promise<void> {
    await upsertMerchant(this.db, r, new Date());
    this.cache.set(r.mchId, merchantOf(r, this.cache.peek(r.mchId)));
  }

  list(): Promise<MerchantRow[]> {
    return listMerchants(this.db);
  }
}

function merchantOf(row: Omit<MerchantRow, 'registeredAt'>, previous: Merchant | undefined): Merchant {
  const publicKeyPem = row.merchantPublicKeyPem;
  return {
    mchId: row.mchId,
    appId: row.appId,
    certSerialNo: row.merchantCertSerialNo,
    publicKeyPem,
    publicKey: reusedPublicKey(publicKeyPem, previous),
    apiV3Key: Buffer.from(row.apiV3Key, 'utf8'),
  };
}
