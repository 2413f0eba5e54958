// SHA256withRSA and the banks' own key pairs, for every simulated channel. A bank's key is
// generated once per database and kept in its ledger, so a restarted sandbox (or a second sandbox
// process) signs with the key merchants already trust.
import { createPrivateKey, createPublicKey, generateKeyPair, sign, verify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';

const generateRsaKeyPair = promisify(generateKeyPair);
const BANK_KEY_BITS = 2048;

export function verifySha256WithRsa(publicKey: KeyObject, message: string, signatureBase64: string): boolean {
  try {
    return verify('sha256', Buffer.from(message, 'utf8'), publicKey, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

/** On libuv's thread pool (callback form): a millisecond of RSA must not block the event loop. */
export function signSha256WithRsa(privateKey: KeyObject, message: string): Promise<string> {
  return new Promise((resolve, reject) =>
    sign('sha256', Buffer.from(message, 'utf8'), privateKey, (err, signature) =>
      err ? reject(err) : resolve(signature.toString('base64')),
    ),
  );
}

export interface StoredKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface GeneratedKeyPair extends StoredKeyPair {
  /** SPKI DER of the public key, for channels that derive a key id from it. */
  publicKeyDer: Buffer;
}

/** A new bank key pair (RSA 2048), off the event loop. */
export async function generateBankKeyPair(): Promise<GeneratedKeyPair> {
  const { publicKey, privateKey } = await generateRsaKeyPair('rsa', { modulusLength: BANK_KEY_BITS });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }),
  };
}

/**
 * The bank key stored in `table`, generated and inserted first if there is none. The insert must
 * let the first writer win, so processes racing on an empty table all end up with one key.
 */
export async function loadOrCreateKeyPair<Row extends StoredKeyPair>(
  table: string,
  store: { find(): Promise<Row | undefined>; insertIfAbsent(pair: GeneratedKeyPair): Promise<void> },
): Promise<{ row: Row; privateKey: KeyObject }> {
  let row = await store.find();
  if (!row) {
    await store.insertIfAbsent(await generateBankKeyPair());
    row = await store.find();
    if (!row) throw new Error(`${table} is empty right after inserting it`);
  }
  const privateKey = createPrivateKey(row.privateKeyPem);
  // Guards against a hand-edited row whose halves do not match: every signature would fail silently.
  const derivedPublicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  if (derivedPublicPem !== row.publicKeyPem) throw new Error(`${table}: public key does not match private key`);
  return { row, privateKey };
}

/**
 * Loads a bank key once per sandbox, on first use; a load that failed (database down) is tried
 * again by the next caller instead of poisoning the sandbox for good.
 */
export function keyLoader<Key>(load: () => Promise<Key>): () => Promise<Key> {
  let loading: Promise<Key> | undefined;
  return () =>
    (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
}

/** The smallest RSA key a merchant may register: what the banks require today. */
const MERCHANT_KEY_BITS_MIN = 2048;

export type PublicKeyParse = { ok: true; publicKey: KeyObject; publicKeyPem: string } | { ok: false; message: string };

/** A merchant's public key from a registration field; stored re-exported, so a private key pasted by mistake never reaches the ledger. */
export function parseMerchantPublicKey(field: string, value: unknown): PublicKeyParse {
  if (typeof value !== 'string') return { ok: false, message: `${field} must be a PEM string` };
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(value);
  } catch {
    return { ok: false, message: `${field} is not a readable PEM public key` };
  }
  if (publicKey.asymmetricKeyType !== 'rsa' || (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < MERCHANT_KEY_BITS_MIN) {
    return { ok: false, message: `${field} must be an RSA key of at least ${MERCHANT_KEY_BITS_MIN} bits` };
  }
  return { ok: true, publicKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}
