// The sandbox's certificate authority: a self-signed root, a middle CA issued by the root, and
// UnionPay's signing certificate issued by the middle (channels.md §3.3), so that an adapter's
// chain and CN checks run against something real. The middle CA also issues each merchant's
// signing certificate, as UnionPay issues the merchant's PFX; its serial is the merchant's certId.
// forge signs in JavaScript on the event loop (tens of ms a certificate): fine for the chain, made
// once, and for registrations, which are rare.
import { randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { generateBankKeyPair } from '../rsa.ts';

/** Certificates start a day in the past: a sandbox host whose clock lags must still accept them. */
const NOT_BEFORE_SKEW_MS = 86_400_000;
const YEAR_MS = 365 * 86_400_000;
/** The CAs outlive every certificate they issue, so no leaf ever outlives its chain. */
const CA_VALIDITY_MS = 30 * YEAR_MS;
const LEAF_VALIDITY_MS = 10 * YEAR_MS;
/** 8 random bytes: unique enough, and larger than 2^53 so an adapter that reads certId as a number fails. */
const SERIAL_BYTES = 8;
/** The CN whose @-separated third segment the production check requires (§3.3 step 2). */
const UNIONPAY_SIGN_CERT_CN = '041@Z12@中国银联股份有限公司@00000001';

export interface Authority {
  rootCertPem: string;
  middleCertPem: string;
  middlePrivateKeyPem: string;
  signCertPem: string;
  signPrivateKeyPem: string;
}

type Name = forge.pki.CertificateField[];

function subject(commonName: string, organizationalUnit: string): Name {
  return [
    { shortName: 'C', value: 'CN' },
    { shortName: 'O', value: 'Paycenter Sandbox UnionPay' },
    { shortName: 'OU', value: organizationalUnit },
    // UTF8String: the signing certificate's CN is Chinese (forge encodes the value itself).
    { shortName: 'CN', value: commonName, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
  ];
}

/** A positive DER INTEGER: the first byte is non-zero and below 0x80. */
function newSerialHex(): string {
  const bytes = randomBytes(SERIAL_BYTES);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** Who signs: an issuing CA, or (without `cert`) the subject itself. */
interface Signer {
  cert?: forge.pki.Certificate;
  privateKey: forge.pki.rsa.PrivateKey;
}

function issue(p: {
  subjectName: Name;
  subjectPublicKeyPem: string;
  signer: Signer;
  ca: boolean;
  validityMs: number;
}): forge.pki.Certificate {
  const issuerCert = p.signer.cert;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(p.subjectPublicKeyPem);
  cert.serialNumber = newSerialHex();
  const nowMs = Date.now();
  cert.validity.notBefore = new Date(nowMs - NOT_BEFORE_SKEW_MS);
  cert.validity.notAfter = new Date(nowMs + p.validityMs);
  cert.setSubject(p.subjectName);
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : p.subjectName);
  const authorityKeyId = (issuerCert ?? cert).generateSubjectKeyIdentifier().getBytes();
  cert.setExtensions([
    // The middle CA may issue end certificates only (path length 0); the root may issue CAs.
    p.ca
      ? { name: 'basicConstraints', cA: true, critical: true, ...(issuerCert ? { pathLenConstraint: 0 } : {}) }
      : { name: 'basicConstraints', cA: false, critical: true },
    p.ca
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId },
  ]);
  cert.sign(p.signer.privateKey, forge.md.sha256.create());
  return cert;
}

function signer(privateKeyPem: string, certPem?: string): Signer {
  const privateKey = forge.pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey;
  return certPem === undefined ? { privateKey } : { privateKey, cert: forge.pki.certificateFromPem(certPem) };
}

/**
 * Generates the whole chain. The root's private key is used once here and never kept: the
 * sandbox never needs another middle CA, and a key that is not stored cannot leak.
 */
export async function createAuthority(): Promise<Authority> {
  const [rootKeys, middleKeys, signKeys] = await Promise.all([generateBankKeyPair(), generateBankKeyPair(), generateBankKeyPair()]);
  const root = issue({
    subjectName: subject('Paycenter Sandbox UnionPay Root CA', 'Root CA'),
    subjectPublicKeyPem: rootKeys.publicKeyPem,
    signer: signer(rootKeys.privateKeyPem),
    ca: true,
    validityMs: CA_VALIDITY_MS,
  });
  const rootPem = forge.pki.certificateToPem(root);
  const middle = issue({
    subjectName: subject('Paycenter Sandbox UnionPay Middle CA', 'Middle CA'),
    subjectPublicKeyPem: middleKeys.publicKeyPem,
    signer: signer(rootKeys.privateKeyPem, rootPem),
    ca: true,
    validityMs: CA_VALIDITY_MS,
  });
  const middlePem = forge.pki.certificateToPem(middle);
  const sign = issue({
    subjectName: subject(UNIONPAY_SIGN_CERT_CN, 'UnionPay'),
    subjectPublicKeyPem: signKeys.publicKeyPem,
    signer: signer(middleKeys.privateKeyPem, middlePem),
    ca: false,
    validityMs: LEAF_VALIDITY_MS,
  });
  return {
    rootCertPem: rootPem,
    middleCertPem: middlePem,
    middlePrivateKeyPem: middleKeys.privateKeyPem,
    signCertPem: forge.pki.certificateToPem(sign),
    signPrivateKeyPem: signKeys.privateKeyPem,
  };
}

/** The merchant's signing certificate and its certId (the serial in decimal, §3.2 step 1). */
export function issueMerchantCertificate(
  authority: Pick<Authority, 'middleCertPem' | 'middlePrivateKeyPem'>,
  merId: string,
  merchantPublicKeyPem: string,
): { certId: string; certPem: string } {
  const cert = issue({
    subjectName: subject(`041@Z12@${merId}@00000001`, 'Merchants'),
    subjectPublicKeyPem: merchantPublicKeyPem,
    signer: signer(authority.middlePrivateKeyPem, authority.middleCertPem),
    ca: false,
    validityMs: LEAF_VALIDITY_MS,
  });
  return { certId: BigInt('0x' + cert.serialNumber).toString(10), certPem: forge.pki.certificateToPem(cert) };
}
