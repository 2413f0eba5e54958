// WeChat Pay's signing key pair ("WeChat Pay public key" mode), kept in the ledger (../rsa.ts).
import { loadOrCreateKeyPair } from '../rsa.ts';
import { findPlatformKey, insertPlatformKeyIfAbsent, type Queryable } from './store.ts';
import { publicKeyIdFor, type PlatformSigner } from './signing.ts';

export interface PlatformKey extends PlatformSigner {
  publicKeyPem: string;
}

export async function loadOrCreatePlatformKey(q: Queryable): Promise<PlatformKey> {
  const { row, privateKey } = await loadOrCreateKeyPair('sandbox_wechatpay.platform_key', {
    find: () => findPlatformKey(q),
    insertIfAbsent: ({ privateKeyPem, publicKeyPem, publicKeyDer }) =>
      insertPlatformKeyIfAbsent(q, { keyId: publicKeyIdFor(publicKeyDer), privateKeyPem, publicKeyPem }),
  });
  return { keyId: row.keyId, privateKey, publicKeyPem: row.publicKeyPem };
}
