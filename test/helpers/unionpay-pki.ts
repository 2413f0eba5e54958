// Test fixture for the UnionPay tests: a root → middle → signing certificate chain like UnionPay's,
// and a merchant key with its certificate, made with node-forge. Keys and signatures come from
// node:crypto (native, fast); forge only lays out the certificates.
import { generateKeyPairSync, sign } from 'node:crypto';
import forge from 'node-forge';

export const UNIONPAY_CN = '041@Z12400000000000000@中国银联股份有限公司@00000001';

export interface Issued {
  cert: forge.pki.Certificate;
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  cn: string;
  /** Hex serial number. */
  serial?: string;
  /** Signs the certificate; omitted = self-signed. */
  issuer?: Issued;
  ca?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  /** The certificate's key pair; omitted = a new one (a 2048-bit key costs ~0.1 s to make). */
  keyPem?: string;
}

/** Exported by forge's x509 module but missing from @types/node-forge. */
interface ForgeTbs {
  getTBSCertificate(cert: forge.pki.Certificate): forge.asn1.Asn1;
}

export function newKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
}

export function issue(opts: IssueOptions): Issued {
  const keyPem = opts.keyPem ?? newKeyPem();
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = opts.serial ?? '0badc0de01';
  cert.validity.notBefore = opts.notBefore ?? new Date('2020-01-01T00:00:00Z');
  cert.validity.notAfter = opts.notAfter ?? new Date('2045-01-01T00:00:00Z');
  const subject = [
    { shortName: 'C', value: 'CN' },
    { shortName: 'O', value: 'Test Certification Authority' },
    { shortName: 'CN', value: opts.cn, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class },
  ];
  cert.setSubject(subject);
  cert.setIssuer(opts.issuer ? opts.issuer.cert.subject.attributes : subject);
  if (opts.ca) {
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ]);
  }
  // What forge's cert.sign does, with the RSA work done natively (forge's takes ~0.2 s a signature).
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!;
  cert.tbsCertificate = (forge.pki as unknown as ForgeTbs).getTBSCertificate(cert);
  const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
  cert.signature = sign('sha256', tbs, opts.issuer ? opts.issuer.keyPem : keyPem).toString('binary');
  return { cert, certPem: forge.pki.certificateToPem(cert), keyPem };
}

export interface Pki {
  root: Issued;
  middle: Issued;
  /** UnionPay's signing certificate, with UnionPay's CN, issued by the middle. */
  signer: Issued;
  /** The merchant's signing key and certificate (serial 0x0F3A6E5B54 = 65404820308). */
  merchant: Issued;
}

export function makePki(): Pki {
  const root = issue({ cn: 'Test UnionPay Root', serial: '01', ca: true });
  const middle = issue({ cn: 'Test UnionPay Middle', serial: '02', ca: true, issuer: root });
  const signer = issue({ cn: UNIONPAY_CN, serial: '03', issuer: middle });
  const merchant = issue({ cn: '041@Z20240501@Test Merchant@00000001', serial: '0f3a6e5b54' });
  return { root, middle, signer, merchant };
}
