// Trust in UnionPay's signing certificate (channels.md §3.3): every answer and notification carries
// its own `signPubKeyCert`, so a message is only as trustworthy as that certificate's chain to the
// configured UnionPay middle and root certificates. Checked with node:crypto's X509Certificate.
import { X509Certificate, type KeyObject } from 'node:crypto';

/** The organisation UnionPay's production signing certificates name (CN's 3rd `@` segment). */
const UNIONPAY_CN_ORGANISATION = '中国银联股份有限公司';

/**
 * UnionPay rotates its signing certificate rarely, so a handful covers every one in use; the bound
 * keeps certificates sent by strangers from growing the cache without limit.
 */
export const VERIFIED_CERTS_MAX = 16;

export type CertificateFailure =
  | 'unreadable'
  | 'not_issued_by_middle'
  | 'not_yet_valid'
  | 'expired'
  /** The chain itself (middle or root) is outside its validity period. */
  | 'chain_not_valid_now'
  | 'wrong_cn';

export type CertificateCheck = { ok: true; publicKey: KeyObject } | { ok: false; failure: CertificateFailure };

export interface Validity {
  fromMs: number;
  toMs: number;
}

/** Undefined when the text is not a readable X.509 certificate (PEM or DER text). */
export function readCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

export function validityOf(cert: X509Certificate): Validity {
  return { fromMs: Date.parse(cert.validFrom), toMs: Date.parse(cert.validTo) };
}

/** Names match and the issuer's key made the signature: a name match alone is forgeable. */
export function isIssuedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

/** The subject's CN, or undefined when there is not exactly one. */
export function commonNameOf(cert: X509Certificate): string | undefined {
  const names = cert.subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
  return names.length === 1 ? names[0] : undefined;
}

/** ACP's getIdentitiesFromCertficate: `041@<id>@中国银联股份有限公司@<n>` → its 3rd segment. */
export function hasUnionpayCommonName(cert: X509Certificate): boolean {
  return commonNameOf(cert)?.split('@')[2] === UNIONPAY_CN_ORGANISATION;
}

export interface ChainConfig {
  rootCert: string;
  middleCert: string;
  validateCnName: boolean;
}

export interface CertificateChecker {
  /** Checks one `signPubKeyCert` at `nowMs`; the chain work is done once per PEM. */
  check(pem: string, nowMs: number): CertificateCheck;
}

interface Trusted {
  publicKey: KeyObject;
  validity: Validity;
}

export function createCertificateChecker(config: ChainConfig): CertificateChecker {
  const root = readCertificate(config.rootCert);
  const middle = readCertificate(config.middleCert);
  // parseUnionpay refuses these at start-up; reaching here with them is a wiring bug.
  if (!root || !middle || !isIssuedBy(middle, root)) {
    throw new Error('unionpay middleCert must be a certificate issued by rootCert');
  }
  const issuer: X509Certificate = middle;
  const chainValidity = [validityOf(root), validityOf(middle)];
  const trusted = new Map<string, Trusted>();

  function establish(pem: string): Trusted | CertificateFailure {
    const cert = readCertificate(pem);
    if (!cert) return 'unreadable';
    if (!isIssuedBy(cert, issuer)) return 'not_issued_by_middle';
    if (config.validateCnName && !hasUnionpayCommonName(cert)) return 'wrong_cn';
    return { publicKey: cert.publicKey, validity: validityOf(cert) };
  }

  return {
    check(pem, nowMs) {
      let entry = trusted.get(pem);
      if (!entry) {
        const established = establish(pem);
        if (typeof established === 'string') return { ok: false, failure: established };
        entry = established;
        if (trusted.size >= VERIFIED_CERTS_MAX) trusted.delete(trusted.keys().next().value!);
        trusted.set(pem, entry);
      }
      // Validity is checked on every use: a cached certificate still expires.
      if (!(nowMs >= entry.validity.fromMs)) return { ok: false, failure: 'not_yet_valid' };
      if (!(nowMs <= entry.validity.toMs)) return { ok: false, failure: 'expired' };
      if (!chainValidity.every((v) => nowMs >= v.fromMs && nowMs <= v.toMs)) return { ok: false, failure: 'chain_not_valid_now' };
      return { ok: true, publicKey: entry.publicKey };
    },
  };
}
