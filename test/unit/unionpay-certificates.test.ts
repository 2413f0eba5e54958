import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  VERIFIED_CERTS_MAX,
  commonNameOf,
  createCertificateChecker,
  hasUnionpayCommonName,
} from '../../src/channels/unionpay/certificates.ts';
import { SIGNATURE_FIELD, signFields } from '../../src/channels/unionpay/sign.ts';
import { verifyMessage } from '../../src/channels/unionpay/verify.ts';
import { UNIONPAY_CN, issue, makePki } from '../helpers/unionpay-pki.ts';

const pki = makePki();
const NOW_MS = Date.parse('2024-05-01T04:00:00Z');
const checker = createCertificateChecker({ rootCert: pki.root.certPem, middleCert: pki.middle.certPem, validateCnName: true });
const lenient = createCertificateChecker({ rootCert: pki.root.certPem, middleCert: pki.middle.certPem, validateCnName: false });

/** Another root and middle: same names as UnionPay's, other keys. */
const otherRoot = issue({ cn: 'Test UnionPay Root', serial: '01', ca: true });
const otherMiddle = issue({ cn: 'Test UnionPay Middle', serial: '02', ca: true, issuer: otherRoot });

describe('unionpay signing certificate chain (§3.3)', () => {
  it('accepts UnionPay signing certificate issued by the middle, and gives its public key', () => {
    const result = checker.check(pki.signer.certPem, NOW_MS);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.publicKey.equals(new X509Certificate(pki.signer.certPem).publicKey)).toBe(true);
  });

  it('accepts the PEM with \\r\\n line ends, as signPubKeyCert carries it', () => {
    expect(checker.check(pki.signer.certPem.replace(/\r?\n/g, '\r\n'), NOW_MS).ok).toBe(true);
  });

  it.each([
    ['a self-signed certificate with UnionPay CN', () => issue({ cn: UNIONPAY_CN }).certPem, 'not_issued_by_middle'],
    [
      'a certificate from a look-alike middle (same names, other key)',
      () => issue({ cn: UNIONPAY_CN, issuer: otherMiddle }).certPem,
      'not_issued_by_middle',
    ],
    ['a certificate issued by the root directly', () => issue({ cn: UNIONPAY_CN, issuer: pki.root }).certPem, 'not_issued_by_middle'],
    ['the middle certificate itself', () => pki.middle.certPem, 'not_issued_by_middle'],
    ['a merchant certificate', () => pki.merchant.certPem, 'not_issued_by_middle'],
    ['a certificate with another CN', () => issue({ cn: '041@Z124@Some Other Company@00000001', issuer: pki.middle }).certPem, 'wrong_cn'],
    ['a CN without the @ segments', () => issue({ cn: '中国银联股份有限公司', issuer: pki.middle }).certPem, 'wrong_cn'],
    [
      'an expired certificate',
      () => issue({ cn: UNIONPAY_CN, issuer: pki.middle, notBefore: new Date('2020-01-01Z'), notAfter: new Date('2024-05-01T03:59:59Z') }).certPem,
      'expired',
    ],
    [
      'a certificate not valid yet',
      () => issue({ cn: UNIONPAY_CN, issuer: pki.middle, notBefore: new Date('2024-05-01T04:00:01Z') }).certPem,
      'not_yet_valid',
    ],
    ['text that is not a certificate', () => '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', 'unreadable'],
  ])('refuses %s', (_label, pem, failure) => {
    expect(checker.check(pem(), NOW_MS)).toEqual({ ok: false, failure });
  });

  it('accepts another CN only when validateCnName is off, never another chain', () => {
    const otherCn = issue({ cn: '00040000:SIGN', issuer: pki.middle }).certPem;
    expect(lenient.check(otherCn, NOW_MS).ok).toBe(true);
    expect(lenient.check(issue({ cn: UNIONPAY_CN }).certPem, NOW_MS)).toEqual({ ok: false, failure: 'not_issued_by_middle' });
  });

  it('checks validity on every use, also for a certificate already verified and cached', () => {
    const pem = issue({ cn: UNIONPAY_CN, issuer: pki.middle, notAfter: new Date('2024-06-01T00:00:00Z') }).certPem;
    expect(checker.check(pem, NOW_MS).ok).toBe(true);
    expect(checker.check(pem, Date.parse('2024-06-01T00:00:01Z'))).toEqual({ ok: false, failure: 'expired' });
  });

  it('refuses everything when the middle itself has expired', () => {
    const shortMiddle = issue({ cn: 'Short Middle', ca: true, issuer: pki.root, notAfter: new Date('2024-01-01T00:00:00Z') });
    const shortChecker = createCertificateChecker({ rootCert: pki.root.certPem, middleCert: shortMiddle.certPem, validateCnName: true });
    const signer = issue({ cn: UNIONPAY_CN, issuer: shortMiddle });
    expect(shortChecker.check(signer.certPem, Date.parse('2023-12-01T00:00:00Z')).ok).toBe(true);
    expect(shortChecker.check(signer.certPem, NOW_MS)).toEqual({ ok: false, failure: 'chain_not_valid_now' });
  });

  it('keeps at most VERIFIED_CERTS_MAX certificates and still checks an evicted one again', () => {
    const many = Array.from({ length: VERIFIED_CERTS_MAX + 2 }, (_, i) =>
      issue({ cn: UNIONPAY_CN, issuer: pki.middle, serial: (0x100 + i).toString(16), keyPem: pki.signer.keyPem }).certPem,
    );
    for (const pem of many) expect(checker.check(pem, NOW_MS).ok).toBe(true);
    expect(checker.check(many[0]!, NOW_MS).ok).toBe(true);
  });

  it('refuses to start with a middle that the root did not issue', () => {
    expect(() =>
      createCertificateChecker({ rootCert: pki.root.certPem, middleCert: otherMiddle.certPem, validateCnName: true }),
    ).toThrow(/middleCert must be a certificate issued by rootCert/);
  });

  it('reads the CN and its third @ segment', () => {
    const cert = new X509Certificate(pki.signer.certPem);
    expect(commonNameOf(cert)).toBe(UNIONPAY_CN);
    expect(hasUnionpayCommonName(cert)).toBe(true);
  });
});

describe('unionpay message verification (§3.3)', () => {
  const signerKey = createPrivateKey(pki.signer.keyPem);

  async function signed(fields: Array<[string, string]>, key = signerKey, cert = pki.signer.certPem) {
    const message = new Map<string, string>([...fields, ['signMethod', '01'], ['signPubKeyCert', cert]]);
    message.set(SIGNATURE_FIELD, await signFields(key, message));
    return message;
  }

  it('accepts a message signed by UnionPay certificate', async () => {
    expect(verifyMessage(await signed([['respCode', '00']]), checker, NOW_MS)).toEqual({ ok: true });
  });

  it('refuses a changed field as bad_signature', async () => {
    const message = await signed([['respCode', '34']]);
    message.set('respCode', '00');
    expect(verifyMessage(message, checker, NOW_MS)).toEqual({ ok: false, reason: 'bad_signature', detail: 'mismatch' });
  });

  it('refuses a message signed by someone else with UnionPay certificate attached', async () => {
    const forger = createPrivateKey(pki.merchant.keyPem);
    expect(verifyMessage(await signed([['respCode', '00']], forger), checker, NOW_MS)).toEqual({
      ok: false,
      reason: 'bad_signature',
      detail: 'mismatch',
    });
  });

  it('refuses a message signed with a self-made certificate as bad_certificate', async () => {
    const selfMade = issue({ cn: UNIONPAY_CN });
    const message = await signed([['respCode', '00']], createPrivateKey(selfMade.keyPem), selfMade.certPem);
    expect(verifyMessage(message, checker, NOW_MS)).toEqual({ ok: false, reason: 'bad_certificate', detail: 'not_issued_by_middle' });
  });

  it('refuses a message without signPubKeyCert, or with another signMethod', async () => {
    const message = await signed([['respCode', '00']]);
    expect(verifyMessage(new Map([...message].filter(([k]) => k !== 'signPubKeyCert')), checker, NOW_MS)).toEqual({
      ok: false,
      reason: 'bad_certificate',
      detail: 'missing',
    });
    expect(verifyMessage(new Map([...message, ['signMethod', '11']]), checker, NOW_MS)).toEqual({
      ok: false,
      reason: 'bad_signature',
      detail: 'sign_method',
    });
  });
});
