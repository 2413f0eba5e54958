// Verifying one UnionPay message (synchronous answer or backUrl notification, channels.md §3.3):
// the certificate it carries must chain to UnionPay's, then its signature must check with it.
import type { CertificateChecker, CertificateFailure } from './certificates.ts';
import { verifyFieldsSignature, type Fields } from './sign.ts';

/** RSA with a certificate, the only signMethod this adapter speaks (5.1.0). */
export const SIGN_METHOD_RSA = '01';

export type VerifyFailure = 'bad_certificate' | 'bad_signature';

export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure; detail: CertificateFailure | 'missing' | 'sign_method' | 'mismatch' };

export function verifyMessage(fields: Fields, checker: CertificateChecker, nowMs: number): VerifyResult {
  const pem = fields.get('signPubKeyCert');
  if (pem === undefined) return { ok: false, reason: 'bad_certificate', detail: 'missing' };
  // signMethod is itself signed, so a message cannot be talked down to a weaker method.
  if (fields.get('signMethod') !== SIGN_METHOD_RSA) return { ok: false, reason: 'bad_signature', detail: 'sign_method' };
  const cert = checker.check(pem, nowMs);
  if (!cert.ok) return { ok: false, reason: 'bad_certificate', detail: cert.failure };
  if (!verifyFieldsSignature(cert.publicKey, fields)) return { ok: false, reason: 'bad_signature', detail: 'mismatch' };
  return { ok: true };
}
