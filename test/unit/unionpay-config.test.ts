import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/read.ts';
import { parseUnionpay } from '../../src/config/unionpay.ts';
import { issue, makePki, newKeyPem, type Issued } from '../helpers/unionpay-pki.ts';

// parseUnionpay checks validity against the real clock, so these certificates span it (2020–2045).
const pki = makePki();
const dir = mkdtempSync(join(tmpdir(), 'unionpay-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeFile(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function pfx(key: Issued, certs: Issued[], password: string): Buffer {
  const asn1 = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(key.keyPem),
    certs.map((c) => c.cert),
    password,
    { algorithm: '3des' },
  );
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

const base = {
  merId: '777290058110048',
  gatewayUrl: 'https://gateway.test.95516.com/',
  privateKey: pki.merchant.keyPem,
  signCert: pki.merchant.certPem,
  rootCert: pki.root.certPem,
  middleCert: pki.middle.certPem,
  backUrl: 'https://pay.example.com/notify/unionpay',
  frontUrl: 'https://shop.example.com/paid?order=1',
};

/** The ConfigError's key and message; fails the test when parsing succeeds. */
function refusal(value: unknown): { key: string; message: string } {
  try {
    parseUnionpay(value);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return { key: (err as ConfigError).key, message: (err as ConfigError).message };
  }
  throw new Error('parseUnionpay accepted the value');
}

/** The base64 body of a PEM, a piece of which must never appear in a message. */
const pemBody = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');

describe('channels.unionpay config', () => {
  it('reads PEM text and applies the defaults', () => {
    const config = parseUnionpay(base);
    expect(config).toEqual({
      ...base,
      gatewayUrl: 'https://gateway.test.95516.com',
      fileUrl: 'https://gateway.test.95516.com',
      validateCnName: true,
      channelType: '07',
      requestTimeoutMs: 10_000,
      expiryGraceMs: 60_000,
    });
  });

  it('reads PEM files by path and the optional settings', () => {
    const config = parseUnionpay({
      ...base,
      privateKey: writeFile('merchant.key', pki.merchant.keyPem),
      signCert: writeFile('merchant.crt', pki.merchant.certPem),
      rootCert: writeFile('acp_test_root.cer', pki.root.certPem),
      middleCert: writeFile('acp_test_middle.cer', pki.middle.certPem),
      fileUrl: 'https://filedownload.test.95516.com/',
      validateCnName: 'off',
      channelType: '08',
      requestTimeoutMs: 5000,
      expiryGraceMs: 0,
    });
    expect(config.privateKey).toBe(pki.merchant.keyPem);
    expect(config.middleCert).toBe(pki.middle.certPem);
    expect(config.validateCnName).toBe(false);
    expect(config.channelType).toBe('08');
    expect(config.expiryGraceMs).toBe(0);
    expect(config.fileUrl).toBe('https://filedownload.test.95516.com');
  });

  it('reads the merchant key and certificate out of a .pfx, picking the certificate of the key', () => {
    const path = writeFile('merchant.pfx', pfx(pki.merchant, [pki.root, pki.merchant], '000000'));
    const { privateKey: _k, signCert: _c, ...rest } = base;
    const config = parseUnionpay({ ...rest, signCertPfx: path, signCertPassword: '000000' });
    expect(config.signCert.replace(/\r\n/g, '\n')).toBe(pki.merchant.certPem.replace(/\r\n/g, '\n'));
    expect(config.privateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    // The same key: it signs what the merchant certificate verifies.
    const again = parseUnionpay({ ...base, privateKey: config.privateKey });
    expect(again.privateKey).toBe(config.privateKey);
  });

  describe('refuses, naming the key', () => {
    const { privateKey: _k, signCert: _c, ...withoutPem } = base;
    const goodPfx = () => writeFile('good.pfx', pfx(pki.merchant, [pki.merchant], 'secret-pass'));
    const stranger = issue({ cn: 'stranger', serial: '77' });
    const expiredMerchant = issue({ cn: 'merchant', notBefore: new Date('2020-01-01Z'), notAfter: new Date('2021-01-01Z') });
    const expiredRoot = issue({ cn: 'old root', ca: true, notBefore: new Date('2020-01-01Z'), notAfter: new Date('2021-01-01Z') });
    const otherRoot = issue({ cn: 'Test UnionPay Root', serial: '01', ca: true });
    const foreignMiddle = issue({ cn: 'Test UnionPay Middle', serial: '02', ca: true, issuer: otherRoot });
    const notCaMiddle = issue({ cn: 'leaf as middle', issuer: pki.root });

    it.each<[string, () => unknown, string, RegExp]>([
      ['not an object', () => 'x', 'channels.unionpay', /must be an object/],
      ['a misspelt key', () => ({ ...base, validateCNName: false }), 'channels.unionpay.validateCNName', /not a UnionPay setting/],
      ['a missing merId', () => ({ ...base, merId: undefined }), 'channels.unionpay.merId', /missing/],
      ['a merId that is not AN15', () => ({ ...base, merId: '7772900581100' }), 'channels.unionpay.merId', /15 letters or digits/],
      ['a missing middleCert', () => ({ ...base, middleCert: '' }), 'channels.unionpay.middleCert', /missing/],
      ['neither PEMs nor a pfx', () => withoutPem, 'channels.unionpay.privateKey', /missing/],
      ['a privateKey without signCert', () => ({ ...base, signCert: undefined }), 'channels.unionpay.signCert', /missing/],
      ['both PEMs and a pfx', () => ({ ...base, signCertPfx: goodPfx(), signCertPassword: 'secret-pass' }), 'channels.unionpay.signCertPfx', /not both/],
      ['an unreadable private key', () => ({ ...base, privateKey: '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----' }), 'channels.unionpay.privateKey', /not a readable private key/],
      ['a private key file that does not exist', () => ({ ...base, privateKey: join(dir, 'none.key') }), 'channels.unionpay.privateKey', /neither PEM text nor/],
      ['a private key that does not match signCert', () => ({ ...base, privateKey: newKeyPem() }), 'channels.unionpay.privateKey', /does not match signCert/],
      ['an unreadable signCert', () => ({ ...base, signCert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }), 'channels.unionpay.signCert', /not a readable X.509/],
      ['an expired signCert', () => ({ ...base, privateKey: expiredMerchant.keyPem, signCert: expiredMerchant.certPem }), 'channels.unionpay.signCert', /signCert expired/],
      ['a pfx without its password', () => ({ ...withoutPem, signCertPfx: goodPfx() }), 'channels.unionpay.signCertPassword', /missing/],
      ['a pfx password given as a number', () => ({ ...withoutPem, signCertPfx: goodPfx(), signCertPassword: 0 }), 'channels.unionpay.signCertPassword', /must be a string/],
      ['a pfx with the wrong password', () => ({ ...withoutPem, signCertPfx: goodPfx(), signCertPassword: 'wrong' }), 'channels.unionpay.signCertPfx', /signCertPassword is wrong/],
      ['a pfx path that does not exist', () => ({ ...withoutPem, signCertPfx: join(dir, 'none.pfx'), signCertPassword: 'x' }), 'channels.unionpay.signCertPfx', /cannot be read \(ENOENT\)/],
      ['a pfx that is a PEM file', () => ({ ...withoutPem, signCertPfx: writeFile('not.pfx', pki.merchant.certPem), signCertPassword: 'x' }), 'channels.unionpay.signCertPfx', /not a PKCS#12 file/],
      ['a pfx whose certificate is not its key’s', () => ({ ...withoutPem, signCertPfx: writeFile('mixed.pfx', pfx(pki.merchant, [stranger], 'p')), signCertPassword: 'p' }), 'channels.unionpay.signCertPfx', /no certificate for its private key/],
      ['a pfx with an expired certificate', () => ({ ...withoutPem, signCertPfx: writeFile('old.pfx', pfx(expiredMerchant, [expiredMerchant], 'p')), signCertPassword: 'p' }), 'channels.unionpay.signCertPfx', /signCert expired/],
      ['an unreadable rootCert', () => ({ ...base, rootCert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }), 'channels.unionpay.rootCert', /not a readable X.509/],
      ['an expired rootCert', () => ({ ...base, rootCert: expiredRoot.certPem }), 'channels.unionpay.rootCert', /rootCert expired/],
      ['a middle not issued by the root', () => ({ ...base, middleCert: foreignMiddle.certPem }), 'channels.unionpay.middleCert', /not issued by rootCert/],
      ['a middle that is not a CA', () => ({ ...base, middleCert: notCaMiddle.certPem }), 'channels.unionpay.middleCert', /not a CA certificate/],
      ['a gatewayUrl that is not a URL', () => ({ ...base, gatewayUrl: 'gateway.95516.com' }), 'channels.unionpay.gatewayUrl', /not a valid URL/],
      ['a gatewayUrl with a query string', () => ({ ...base, gatewayUrl: 'https://gateway.95516.com/?env=test' }), 'channels.unionpay.gatewayUrl', /query string/],
      ['a fileUrl that is not a URL', () => ({ ...base, fileUrl: 'filedownload.95516.com' }), 'channels.unionpay.fileUrl', /not a valid URL/],
      ['a fileUrl with a query string', () => ({ ...base, fileUrl: 'https://filedownload.95516.com/?env=test' }), 'channels.unionpay.fileUrl', /query string/],
      ['a backUrl with a query string', () => ({ ...base, backUrl: 'https://pay.example.com/notify?x=1' }), 'channels.unionpay.backUrl', /query string/],
      ['a channelType other than 07/08', () => ({ ...base, channelType: '05' }), 'channels.unionpay.channelType', /one of 07, 08/],
      ['validateCnName that is not on/off', () => ({ ...base, validateCnName: 'maybe' }), 'channels.unionpay.validateCnName', /"on" or "off"/],
      ['a requestTimeoutMs below 100', () => ({ ...base, requestTimeoutMs: 99 }), 'channels.unionpay.requestTimeoutMs', /from 100 to 60000/],
      ['an expiryGraceMs above one hour', () => ({ ...base, expiryGraceMs: 3_600_001 }), 'channels.unionpay.expiryGraceMs', /from 0 to 3600000/],
    ])('%s', (_label, value, key, message) => {
      const { key: named, message: text } = refusal(value());
      expect(named).toBe(key);
      expect(text).toMatch(message);
      // Never any key material in the message.
      expect(text).not.toContain('BEGIN');
      expect(text).not.toContain(pemBody(pki.merchant.keyPem).slice(64, 96));
    });
  });
});
