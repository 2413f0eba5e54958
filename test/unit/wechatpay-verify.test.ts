import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildVerifyMessage,
  headerGetterFromRecord,
  verifyWechatpaySignature,
  type PlatformKey,
} from '../../src/channels/wechatpay/verify.ts';

const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const impostor = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key: PlatformKey = { publicKey: platform.publicKey, publicKeyId: 'PUB_KEY_ID_0112345678' };
const NOW_S = 1_700_000_000;
const NOW_MS = NOW_S * 1000 + 456;
const BODY = '{"code_url":"weixin://wxpay/bizpayurl?pr=abc"}';

function signedHeaders(body: string, over: Record<string, string | undefined> = {}, signer = platform.privateKey) {
  const timestamp = over['wechatpay-timestamp'] ?? String(NOW_S);
  const nonce = over['wechatpay-nonce'] ?? 'fdasflkja484w';
  const signature = sign('sha256', Buffer.from(`${timestamp}\n${nonce}\n${body}\n`), signer).toString('base64');
  const headers: Record<string, string | undefined> = {
    'wechatpay-timestamp': timestamp,
    'wechatpay-nonce': nonce,
    'wechatpay-signature': signature,
    'wechatpay-serial': key.publicKeyId,
    ...over,
  };
  return headers;
}

const check = (headers: Record<string, string | string[] | undefined>, body: string | Uint8Array, nowMs = NOW_MS) =>
  verifyWechatpaySignature(headerGetterFromRecord(headers), body, key, nowMs);

describe('wechatpay response/notification verification', () => {
  it('accepts a good signature over the raw body', () => {
    expect(check(signedHeaders(BODY), BODY)).toEqual({ ok: true });
  });

  it('accepts the raw bytes as well as the string', () => {
    expect(check(signedHeaders(BODY), Buffer.from(BODY))).toEqual({ ok: true });
  });

  it('accepts an empty (204) body signed as an empty third line', () => {
    expect(buildVerifyMessage('1', 'n', '').toString()).toBe('1\nn\n\n');
    expect(check(signedHeaders(''), '')).toEqual({ ok: true });
  });

  it('rejects a tampered body', () => {
    expect(check(signedHeaders(BODY), BODY.replace('abc', 'abd'))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects re-serialized JSON (whitespace differs from what was signed)', () => {
    const raw = '{"a": 1}';
    expect(check(signedHeaders(raw), JSON.stringify(JSON.parse(raw)))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a signature made with another key', () => {
    expect(check(signedHeaders(BODY, {}, impostor.privateKey), BODY)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a WECHATPAY/SIGNTEST/ probe as a bad signature', () => {
    const headers = signedHeaders(BODY, { 'wechatpay-signature': 'WECHATPAY/SIGNTEST/' + 'A'.repeat(300) });
    expect(check(headers, BODY)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects garbage that is not base64 at all', () => {
    expect(check(signedHeaders(BODY, { 'wechatpay-signature': '!!!' }), BODY)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a wrong serial before looking at the signature', () => {
    const headers = signedHeaders(BODY, { 'wechatpay-serial': '5157F09EFDC096DE15EBE81A47057A7232F1B8E1' });
    expect(check(headers, BODY)).toEqual({ ok: false, reason: 'unknown_serial' });
  });

  it('rejects a signature type other than WECHATPAY2-SHA256-RSA2048 and accepts that one', () => {
    expect(check(signedHeaders(BODY, { 'wechatpay-signature-type': 'WECHATPAY2-SM2-WITH-SM3' }), BODY)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(check(signedHeaders(BODY, { 'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048' }), BODY)).toEqual({
      ok: true,
    });
  });

  it.each([
    ['299 s old', NOW_S - 299, true],
    ['300 s old', NOW_S - 300, false],
    ['299 s ahead', NOW_S + 299, true],
    ['300 s ahead', NOW_S + 300, false],
  ])('timestamp %s → fresh=%s', (_label, ts, fresh) => {
    const result = check(signedHeaders(BODY, { 'wechatpay-timestamp': String(ts) }), BODY);
    expect(result).toEqual(fresh ? { ok: true } : { ok: false, reason: 'stale_timestamp' });
  });

  it('rejects a timestamp that is not a number', () => {
    expect(check(signedHeaders(BODY, { 'wechatpay-timestamp': '17e8' }), BODY)).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
  });

  it.each(['wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-signature', 'wechatpay-serial'])(
    'rejects when %s is missing',
    (name) => {
      const headers = signedHeaders(BODY);
      delete headers[name];
      expect(check(headers, BODY)).toEqual({ ok: false, reason: 'missing_headers' });
    },
  );

  it('rejects an unsigned answer', () => {
    expect(check({}, BODY)).toEqual({ ok: false, reason: 'missing_headers' });
  });

  it('treats a repeated header as missing and finds mixed-case names', () => {
    const headers = signedHeaders(BODY);
    const doubled = { ...headers, 'wechatpay-nonce': [headers['wechatpay-nonce']!, 'other'] };
    expect(check(doubled, BODY)).toEqual({ ok: false, reason: 'missing_headers' });
    const mixed = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.replace(/^w/, 'W'), v]));
    expect(check(mixed, BODY)).toEqual({ ok: true });
  });
});
