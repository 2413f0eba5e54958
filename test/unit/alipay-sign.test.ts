import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';
import { describe, expect, it } from 'vitest';
import {
  NOTIFICATION_UNSIGNED_KEYS,
  REQUEST_UNSIGNED_KEYS,
  buildSignContent,
  signContent,
  verifyContent,
} from '../../src/channels/alipay/sign.ts';
import {
  SUBJECT_MAX_CHARS,
  encodeForm,
  pagePayBizContent,
  precreateBizContent,
  signedParams,
  truncateSubject,
} from '../../src/channels/alipay/params.ts';
import { fenToYuan, yuanToFen } from '../../src/channels/yuan.ts';

const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (k: KeyObject, type: 'pkcs1' | 'spki') => k.export({ format: 'pem', type }).toString().trim();

/** channels.md §2.2, the constructed example, byte for byte. */
const BRIEF_STRING_TO_SIGN =
  'app_id=2021000000000001&biz_content={"out_trade_no":"ORD20240101001","total_amount":"88.88","subject":"Order 1"}' +
  '&charset=utf-8&format=JSON&method=alipay.trade.precreate&notify_url=https://m.example.com/alipay/notify' +
  '&sign_type=RSA2&timestamp=2024-01-01 12:00:00&version=1.0';
const BRIEF_BIZ_CONTENT = '{"out_trade_no":"ORD20240101001","total_amount":"88.88","subject":"Order 1"}';
/** 2024-01-01 12:00:00 in Beijing. */
const BRIEF_NOW = new Date('2024-01-01T04:00:00Z');

describe('alipay signing content (§2.2)', () => {
  it('builds the brief\'s example: sorted keys, raw values, sign left out, sign_type kept', () => {
    const params = {
      version: '1.0',
      timestamp: '2024-01-01 12:00:00',
      sign: 'ignored',
      method: 'alipay.trade.precreate',
      sign_type: 'RSA2',
      notify_url: 'https://m.example.com/alipay/notify',
      format: 'JSON',
      charset: 'utf-8',
      biz_content: BRIEF_BIZ_CONTENT,
      app_id: '2021000000000001',
    };
    expect(buildSignContent(params, REQUEST_UNSIGNED_KEYS)).toBe(BRIEF_STRING_TO_SIGN);
  });

  it('signedParams signs exactly that string for the same call', async () => {
    const params = await signedParams(
      { appId: '2021000000000001', privateKey: app.privateKey },
      'alipay.trade.precreate',
      BRIEF_BIZ_CONTENT,
      BRIEF_NOW,
      { notify_url: 'https://m.example.com/alipay/notify', return_url: undefined },
    );
    expect(params).toMatchObject({ timestamp: '2024-01-01 12:00:00', biz_content: BRIEF_BIZ_CONTENT });
    expect(params).not.toHaveProperty('return_url');
    expect(verify('sha256', Buffer.from(BRIEF_STRING_TO_SIGN), app.publicKey, Buffer.from(params.sign!, 'base64'))).toBe(true);
  });

  it("the official SDK's verifier accepts our request signature (sign_type included)", async () => {
    const params = await signedParams({ appId: '2021000000000001', privateKey: app.privateKey }, 'alipay.trade.query', '{"out_trade_no":"A1"}', BRIEF_NOW);
    const sdk = new AlipaySdk({ appId: '2021000000000001', privateKey: pem(app.privateKey, 'pkcs1'), alipayPublicKey: pem(app.publicKey, 'spki') });
    expect(sdk.checkNotifySignV2(params)).toBe(true);
    expect(sdk.checkNotifySignV2({ ...params, method: 'alipay.trade.close' })).toBe(false);
  });

  it('leaves out empty values, sorts in ASCII order (upper case and digits before "_" and lower case)', () => {
    expect(buildSignContent({ b: '2', a_b: '3', a: '1', Z: 'z', a1: '', x: undefined }, REQUEST_UNSIGNED_KEYS)).toBe('Z=z&a=1&a_b=3&b=2');
  });

  it('notifications leave out both sign and sign_type', () => {
    expect(buildSignContent({ sign: 's', sign_type: 'RSA2', trade_no: '1', app_id: '2' }, NOTIFICATION_UNSIGNED_KEYS)).toBe('app_id=2&trade_no=1');
  });

  it('verifies with the right public key only; a malformed signature is false, not a throw', async () => {
    const sig = await signContent(app.privateKey, 'a=1&b=中文');
    expect(verifyContent(app.publicKey, 'a=1&b=中文', sig)).toBe(true);
    expect(verifyContent(other.publicKey, 'a=1&b=中文', sig)).toBe(false);
    expect(verifyContent(app.publicKey, 'a=1&b=中文 ', sig)).toBe(false);
    expect(verifyContent(app.publicKey, 'a=1', '%%%not base64')).toBe(false);
  });

  it('percent-encodes keys and values for the wire', () => {
    expect(encodeForm({ timestamp: '2024-01-01 12:00:00', biz_content: '{"subject":"A&B=商"}' })).toBe(
      'timestamp=2024-01-01%2012%3A00%3A00&biz_content=%7B%22subject%22%3A%22A%26B%3D%E5%95%86%22%7D',
    );
  });
});

describe('alipay biz_content', () => {
  const input = {
    outTradeNo: 'pc0000000000000000000000000001',
    amountMinor: 8888,
    description: 'Order 1',
    expiresAt: new Date('2024-01-01T04:15:00.999Z'),
  };

  it('precreate: out_trade_no, yuan total_amount, subject, Beijing time_expire to the second', () => {
    expect(JSON.parse(precreateBizContent(input))).toEqual({
      out_trade_no: 'pc0000000000000000000000000001',
      total_amount: '88.88',
      subject: 'Order 1',
      time_expire: '2024-01-01 12:15:00',
    });
  });

  it('page pay adds product_code FAST_INSTANT_TRADE_PAY', () => {
    expect(JSON.parse(pagePayBizContent(input))).toEqual({
      out_trade_no: 'pc0000000000000000000000000001',
      total_amount: '88.88',
      subject: 'Order 1',
      time_expire: '2024-01-01 12:15:00',
      product_code: 'FAST_INSTANT_TRADE_PAY',
    });
  });

  it('time_expire crosses the date line in Beijing', () => {
    expect(JSON.parse(precreateBizContent({ ...input, expiresAt: new Date('2024-12-31T16:00:00Z') })).time_expire).toBe(
      '2025-01-01 00:00:00',
    );
  });

  it.each([
    [255, 255],
    [256, 256],
    [257, 256],
  ])('a subject of %i characters keeps %i', (length, kept) => {
    expect(Array.from(truncateSubject('商'.repeat(length)))).toHaveLength(kept);
  });

  it('counts characters, never splitting a surrogate pair', () => {
    const cut = truncateSubject('😀'.repeat(SUBJECT_MAX_CHARS + 1));
    expect(Array.from(cut)).toHaveLength(SUBJECT_MAX_CHARS);
    expect(cut.endsWith('😀')).toBe(true);
    expect(truncateSubject('😀'.repeat(SUBJECT_MAX_CHARS))).toBe('😀'.repeat(SUBJECT_MAX_CHARS));
  });
});

describe('yuan conversion at the Alipay boundary', () => {
  it.each([
    [1, '0.01'],
    [10, '0.10'],
    [99, '0.99'],
    [100, '1.00'],
    [8888, '88.88'],
    [10_000_000_000, '100000000.00'],
  ])('%i fen → "%s"', (fen, yuan) => {
    expect(fenToYuan(fen)).toBe(yuan);
    expect(yuanToFen(yuan)).toBe(fen);
  });

  it.each([
    ['88.8', 8880],
    ['88', 8800],
    ['0', 0],
    ['0.1', 10],
    ['0.00', 0],
  ])('"%s" → %i fen', (yuan, fen) => {
    expect(yuanToFen(yuan)).toBe(fen);
  });

  it.each(['', ' 1.00', '1.00 ', '-1.00', '+1.00', '1.001', '01.00', '1.', '.5', '1e2', '0x10', '1,00', 'NaN', '88.88元'])(
    '"%s" is not an amount',
    (yuan) => {
      expect(yuanToFen(yuan)).toBeUndefined();
    },
  );

  it('refuses fractional and negative fen', () => {
    expect(() => fenToYuan(1.5)).toThrow();
    expect(() => fenToYuan(-1)).toThrow();
  });
});
