import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAlipay } from '../../src/config/alipay.ts';
import { ConfigError } from '../../src/config/read.ts';
import { pemOf as pem, rsaKeyPair } from '../helpers/channel-keys.ts';

const app = rsaKeyPair();
const alipay = rsaKeyPair();
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

const valid = {
  appId: '2021000000000001',
  gatewayUrl: 'https://openapi.alipay.com/gateway.do',
  privateKey: pem(app.privateKey, 'pkcs8'),
  alipayPublicKey: pem(alipay.publicKey, 'spki'),
  sellerId: '2088000000000001',
  notifyUrl: 'https://pay.example.com/notify/alipay',
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'alipay-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ConfigError thrown, so its key and message can both be checked. */
function refusal(value: unknown): ConfigError {
  try {
    parseAlipay(value);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('parseAlipay accepted the value');
}

describe('parseAlipay', () => {
  it('reads a complete section, with the documented defaults', () => {
    expect(parseAlipay(valid)).toEqual({ ...valid, requestTimeoutMs: 10_000, expiryGraceMs: 60_000 });
  });

  it('keeps returnUrl and explicit limits when given', () => {
    const config = parseAlipay({ ...valid, returnUrl: 'https://shop.example.com/paid?order=1', requestTimeoutMs: 5000, expiryGraceMs: 0 });
    expect(config).toMatchObject({ returnUrl: 'https://shop.example.com/paid?order=1', requestTimeoutMs: 5000, expiryGraceMs: 0 });
  });

  it('accepts a PKCS#1 private key and reads keys from PEM files', () => {
    const keyFile = path.join(dir, 'app.pem');
    const pubFile = path.join(dir, 'alipay.pem');
    writeFileSync(keyFile, pem(app.privateKey, 'pkcs1'));
    writeFileSync(pubFile, pem(alipay.publicKey, 'spki'));
    const config = parseAlipay({ ...valid, privateKey: keyFile, alipayPublicKey: pubFile });
    expect(config.privateKey).toContain('-----BEGIN RSA PRIVATE KEY-----');
    expect(config.alipayPublicKey).toBe(pem(alipay.publicKey, 'spki'));
  });

  it('is not an object', () => {
    expect(refusal(undefined).key).toBe('channels.alipay');
    expect(refusal('alipay').key).toBe('channels.alipay');
  });

  it.each(['appId', 'gatewayUrl', 'privateKey', 'alipayPublicKey', 'sellerId', 'notifyUrl'])('names a missing %s', (key) => {
    expect(refusal({ ...valid, [key]: undefined }).key).toBe(`channels.alipay.${key}`);
    expect(refusal({ ...valid, [key]: '' }).key).toBe(`channels.alipay.${key}`);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['an app id that is not digits', { appId: 'wx2021' }, 'appId'],
    ['a seller id that is not a PID', { sellerId: '2089000000000001' }, 'sellerId'],
    ['a seller id one digit short', { sellerId: '208800000000001' }, 'sellerId'],
    ['a gateway that is not a URL', { gatewayUrl: 'openapi.alipay.com' }, 'gatewayUrl'],
    ['a gateway with a query string', { gatewayUrl: 'https://openapi.alipay.com/gateway.do?charset=utf-8' }, 'gatewayUrl'],
    ['an ftp gateway', { gatewayUrl: 'ftp://openapi.alipay.com/gateway.do' }, 'gatewayUrl'],
    ['a notify URL with a query string', { notifyUrl: 'https://pay.example.com/notify/alipay?x=1' }, 'notifyUrl'],
    ['a notify URL ending in a bare "?"', { notifyUrl: 'https://pay.example.com/notify/alipay?' }, 'notifyUrl'],
    ['a return URL that is not a URL', { returnUrl: 'shop' }, 'returnUrl'],
    ['a timeout below 100 ms', { requestTimeoutMs: 99 }, 'requestTimeoutMs'],
    ['a timeout above 60 s', { requestTimeoutMs: 60_001 }, 'requestTimeoutMs'],
    ['a negative grace', { expiryGraceMs: -1 }, 'expiryGraceMs'],
    ['a grace above one day', { expiryGraceMs: 86_400_001 }, 'expiryGraceMs'],
    ['a private key file that does not exist', { privateKey: '/nonexistent/app.pem' }, 'privateKey'],
    ['an EC private key (RSA2 needs RSA)', { privateKey: pem(ec.privateKey, 'pkcs8') }, 'privateKey'],
    ['an EC public key', { alipayPublicKey: pem(ec.publicKey, 'spki') }, 'alipayPublicKey'],
    ["the app's own public key in place of Alipay's", { alipayPublicKey: pem(app.publicKey, 'spki') }, 'alipayPublicKey'],
  ])('refuses %s', (_label, over, key) => {
    expect(refusal({ ...valid, ...over }).key).toBe(`channels.alipay.${key}`);
  });

  it('refuses an unreadable key without printing it', () => {
    const garbled = '-----BEGIN PRIVATE KEY-----\nSECRETSECRETSECRET\n-----END PRIVATE KEY-----';
    const err = refusal({ ...valid, privateKey: garbled });
    expect(err.key).toBe('channels.alipay.privateKey');
    expect(err.message).toContain('not a readable private key');
    expect(err.message).not.toContain('SECRETSECRET');
  });

  it('refuses a bare base64 key (as Alipay\'s key tool prints it) without printing it', () => {
    const bare = pem(app.privateKey, 'pkcs8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const err = refusal({ ...valid, privateKey: bare });
    expect(err.key).toBe('channels.alipay.privateKey');
    expect(err.message).toContain('bare base64');
    expect(err.message).not.toContain(bare.slice(10, 40));
  });
});
