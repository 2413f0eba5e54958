// The bank's RSA 2048 key pair, generated once per database and kept in the ledger so that a
// restarted sandbox (or a second sandbox process) signs with the key merchants already trust.
import { createPrivateKey, createPublicKey, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { findPlatformKey, insertPlatformKeyIfAbsent, type Queryable } from './store.ts';
import { publicKeyIdFor, type PlatformSigner } from './signing.ts';

const generateRsaKeyPair = promisify(generateKeyPair);

export interface PlatformKey extends PlatformSigner {
  publicKeyPem: string;
}

export async function loadOrCreatePlatformKey(q: Queryable): Promise<PlatformKey> {
  let row = await findPlatformKey(q);
  if (!row) {
    const { publicKey, privateKey } = await generateRsaKeyPair('rsa', { modulusLength: 2048 });
    await insertPlatformKeyIfAbsent(q, {
      keyId: publicKeyIdFor(publicKey.export({ type: 'spki', format: 'der' })),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    row = await findPlatformKey(q);
    if (!row) throw new Error('sandbox_wechatpay.platform_key is empty right after inserting it');
  }
  const privateKey = createPrivateKey(row.privateKeyPem);
  // Guards against a hand-edited row whose halves do not match: every signature would fail silently.
  const derivedPublicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  if (derivedPublicPem !== row.publicKeyPem) throw new Error('sandbox_wechatpay.platform_key: public key does not match private key');
  return { keyId: row.keyId, privateKey, publicKeyPem: row.publicKeyPem };
}
