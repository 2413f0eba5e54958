// The "Alipay" key pair merchants verify the bank with, kept in the ledger (../rsa.ts).
import type { KeyObject } from 'node:crypto';
import { loadOrCreateKeyPair } from '../rsa.ts';
import { findAlipayKey, insertAlipayKeyIfAbsent, type Queryable } from './store.ts';

export interface AlipayKey {
  privateKey: KeyObject;
  publicKeyPem: string;
}

export async function loadOrCreateAlipayKey(q: Queryable): Promise<AlipayKey> {
  const { row, privateKey } = await loadOrCreateKeyPair('sandbox_alipay.alipay_key', {
    find: () => findAlipayKey(q),
    insertIfAbsent: ({ privateKeyPem, publicKeyPem }) => insertAlipayKeyIfAbsent(q, { privateKeyPem, publicKeyPem }),
  });
  return { privateKey, publicKeyPem: row.publicKeyPem };
}
