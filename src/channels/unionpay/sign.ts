// Message signing for UnionPay ACP 5.1.0, signMethod 01 (channels.md §3.2): the sorted k=v string
// of every non-blank field but `signature`, its lowercase hex SHA-256, and SHA256withRSA over that
// hex text — so SHA-256 is applied twice. Pure functions over a field map.
import { createHash, sign, verify, type KeyObject, type X509Certificate } from 'node:crypto';

/** One ACP message: field name → raw (un-encoded) value. */
export type Fields = ReadonlyMap<string, string>;

export const SIGNATURE_FIELD = 'signature';

/** Blank means empty after trimming, as ACP's filterBlank and getAllRequestParam decide. */
export function isBlank(value: string): boolean {
  return value.trim() === '';
}

/**
 * What we send: blank fields dropped and values trimmed, as ACP's filterBlank does before it
 * signs — so the form posted is exactly the form signed.
 */
export function outgoingFields(fields: Iterable<readonly [string, string]>): Map<string, string> {
  const kept = new Map<string, string>();
  for (const [key, value] of fields) if (!isBlank(value)) kept.set(key, value.trim());
  return kept;
}

/**
 * `k=v&…` over every non-blank field except `signature`, keys in ASCII order (Java's TreeMap).
 * Values are used as received: a verifier must not alter what the signer signed.
 */
export function signingString(fields: Fields): string {
  const keys = [...fields.keys()].filter((k) => k !== SIGNATURE_FIELD && !isBlank(fields.get(k)!));
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((k) => `${k}=${fields.get(k)!}`).join('&');
}

/** The lowercase hex SHA-256 of the signing string's UTF-8 bytes: the text that is RSA-signed. */
export function signingDigest(fields: Fields): string {
  return createHash('sha256').update(signingString(fields), 'utf8').digest('hex');
}

/**
 * Base64 SHA256withRSA over the ASCII digest. PKCS#1 v1.5 is deterministic, so the same fields give
 * the same signature (a retried consume form is identical). Computed on libuv's thread pool: an
 * RSA-2048 signature costs about a millisecond of CPU.
 */
export function signFields(privateKey: KeyObject, fields: Fields): Promise<string> {
  const digest = Buffer.from(signingDigest(fields), 'ascii');
  return new Promise((resolve, reject) =>
    sign('sha256', digest, privateKey, (err, signature) => (err ? reject(err) : resolve(signature.toString('base64')))),
  );
}

/** The message as sent: `outgoingFields` of `unsigned` with its `signature` added. */
export async function signedFields(privateKey: KeyObject, unsigned: Iterable<readonly [string, string]>): Promise<Map<string, string>> {
  const fields = outgoingFields(unsigned);
  fields.set(SIGNATURE_FIELD, await signFields(privateKey, fields));
  return fields;
}

/** True only for a well-formed signature by `publicKey` over these fields. */
export function verifyFieldsSignature(publicKey: KeyObject, fields: Fields): boolean {
  const signature = fields.get(SIGNATURE_FIELD);
  if (signature === undefined || isBlank(signature)) return false;
  try {
    return verify('sha256', Buffer.from(signingDigest(fields), 'ascii'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** ACP's certId: the signing certificate's serial number as a decimal string. */
export function certIdOf(cert: X509Certificate): string {
  return BigInt(`0x${cert.serialNumber}`).toString(10);
}
