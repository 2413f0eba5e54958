// ACP 5.1.0 signatures with signMethod=01 as the bank sees them (channels.md §3.2, §3.3): the
// non-empty fields except `signature`, sorted by key, joined `k=v&…` with raw values; the RSA
// signature (SHA256withRSA) covers the lowercase hex SHA-256 of that string, not the string itself.
import { createHash, type KeyObject } from 'node:crypto';
import { signSha256WithRsa, verifySha256WithRsa } from '../rsa.ts';

export type AcpFields = Record<string, string>;

/** The fields without the blank ones, which ACP drops before signing and before verifying. */
export function withoutBlanks(fields: AcpFields): AcpFields {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value.trim() !== ''));
}

export function signableString(fields: AcpFields): string {
  return Object.entries(withoutBlanks(fields))
    .filter(([key]) => key !== 'signature')
    // Keys are ASCII, so code-unit order is the ASCII (TreeMap) order the brief asks for.
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

/** The 64 lowercase hex characters that SHA256withRSA actually signs. */
function signedDigest(fields: AcpFields): string {
  return createHash('sha256').update(signableString(fields), 'utf8').digest('hex');
}

export function verifyAcpSignature(fields: AcpFields, publicKey: KeyObject): boolean {
  const { signature } = fields;
  return signature !== undefined && signature !== '' && verifySha256WithRsa(publicKey, signedDigest(fields), signature);
}

/**
 * "The same message" as the bank judges a repeated orderId: sha256 of the signed fields but certId,
 * so a resend signed under a renewed certificate still counts as the same.
 */
export function requestFingerprintOf(fields: AcpFields): string {
  const { certId: _certId, ...business } = fields;
  return createHash('sha256').update(signableString(business), 'utf8').digest('hex');
}

export function acpSignature(fields: AcpFields, privateKey: KeyObject): Promise<string> {
  return signSha256WithRsa(privateKey, signedDigest(fields));
}
