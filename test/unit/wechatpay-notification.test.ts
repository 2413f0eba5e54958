import { createCipheriv, randomBytes, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createWechatpayChannel } from '../../src/channels/wechatpay/index.ts';
import type { RawHttpRequest } from '../../src/channels/types.ts';
import { WECHATPAY_API_V3_KEY, rsaKeyPair, wechatpayTestConfig } from '../helpers/channel-keys.ts';

const merchant = rsaKeyPair();
const platform = rsaKeyPair();
const impostor = rsaKeyPair();

const API_V3_KEY = WECHATPAY_API_V3_KEY;
const NOW = new Date('2024-05-01T04:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);

const config = wechatpayTestConfig({ merchant, platform }, 'http://127.0.0.1:1/sandbox/wechatpay', 1000);
const channel = createWechatpayChannel(config, { now: () => NOW });

/** A paid Native transaction as WeChat would put it in the resource. */
function transaction(over: Record<string, unknown> = {}) {
  return {
    appid: config.appId,
    mchid: config.mchId,
    out_trade_no: 'PC20240501000001',
    transaction_id: '4200000000202405011234567890',
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    attach: '',
    success_time: '2024-05-01T11:59:30+08:00',
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 8888, payer_total: 8000, currency: 'CNY', payer_currency: 'CNY' },
    ...over,
  };
}

interface EnvelopeOptions {
  tx?: unknown;
  plaintext?: string;
  key?: string;
  algorithm?: string;
  eventType?: string;
  originalType?: string;
  resourceType?: string;
  tamper?: boolean;
}

/** Encrypts the resource (AES-256-GCM, tag appended) and wraps it in the v3 envelope, as WeChat does. */
function envelope(o: EnvelopeOptions = {}): string {
  const nonce = randomBytes(6).toString('hex'); // 12 characters
  const associatedData = 'transaction';
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(o.key ?? API_V3_KEY), Buffer.from(nonce));
  cipher.setAAD(Buffer.from(associatedData));
  const plaintext = o.plaintext ?? JSON.stringify(o.tx ?? transaction());
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  if (o.tamper) data[3] = data[3]! ^ 0x01;
  // Deliberately not JSON.stringify's spacing: verification must use the raw text.
  return `{"id": "EV-2018022511223320873", "create_time": "2024-05-01T11:59:31+08:00",
  "resource_type": "${o.resourceType ?? 'encrypt-resource'}", "event_type": "${o.eventType ?? 'TRANSACTION.SUCCESS'}",
  "summary": "支付成功", "resource": {"original_type": "${o.originalType ?? 'transaction'}",
  "algorithm": "${o.algorithm ?? 'AEAD_AES_256_GCM'}", "ciphertext": "${data.toString('base64')}",
  "associated_data": "${associatedData}", "nonce": "${nonce}"}}`;
}

function signed(rawBody: string, over: Record<string, string | undefined> = {}, signer = platform.privateKey): RawHttpRequest {
  const timestamp = over['wechatpay-timestamp'] ?? String(NOW_S);
  const nonce = 'fdasflkja484w';
  const signature = sign('sha256', Buffer.from(`${timestamp}\n${nonce}\n${rawBody}\n`), signer).toString('base64');
  return {
    rawBody,
    headers: {
      'content-type': 'application/json',
      'wechatpay-timestamp': timestamp,
      'wechatpay-nonce': nonce,
      'wechatpay-signature': signature,
      'wechatpay-serial': config.platformPublicKeyId,
      'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
      'request-id': '08F78BB5AF0610D302839A9E0F-0',
      ...over,
    },
  };
}

describe('wechatpay notification', () => {
  it('a signed, encrypted TRANSACTION.SUCCESS is verified with the paid status and amount', async () => {
    const result = await channel.parseNotification(signed(envelope()));
    expect(result).toEqual({
      verified: true,
      notificationId: 'EV-2018022511223320873',
      outTradeNo: 'PC20240501000001',
      status: {
        kind: 'paid',
        channelTradeNo: '4200000000202405011234567890',
        amountMinor: 8888, // amount.total, not payer_total
        currency: 'CNY',
        paidAt: new Date('2024-05-01T03:59:30Z'),
      },
    });
  });

  it('reads the trade state like a query does (REFUND is still paid, NOTPAY is not)', async () => {
    const refund = await channel.parseNotification(signed(envelope({ tx: transaction({ trade_state: 'REFUND' }) })));
    expect(refund.verified && refund.status?.kind).toBe('paid');
    const notPaid = await channel.parseNotification(signed(envelope({ tx: transaction({ trade_state: 'NOTPAY' }) })));
    expect(notPaid.verified && notPaid.status).toEqual({ kind: 'not_paid' });
  });

  it('a paid resource with a fractional amount is not trusted as paid', async () => {
    const tx = transaction({ amount: { total: 88.88, currency: 'CNY' } });
    const result = await channel.parseNotification(signed(envelope({ tx })));
    expect(result.verified && result.status?.kind).toBe('unknown');
  });

  it('tampered ciphertext (signature re-made over it) → decrypt_failed', async () => {
    const result = await channel.parseNotification(signed(envelope({ tamper: true })));
    expect(result).toEqual({ verified: false, reason: 'decrypt_failed', notificationId: 'EV-2018022511223320873' });
  });

  it('a resource encrypted with another APIv3 key → decrypt_failed', async () => {
    const result = await channel.parseNotification(signed(envelope({ key: 'x'.repeat(32) })));
    expect(result).toMatchObject({ verified: false, reason: 'decrypt_failed' });
    expect(result).not.toHaveProperty('outTradeNo');
  });

  it('a bad signature is refused, with the out_trade_no for an active query', async () => {
    const result = await channel.parseNotification(signed(envelope(), {}, impostor.privateKey));
    expect(result).toEqual({
      verified: false,
      reason: 'bad_signature',
      notificationId: 'EV-2018022511223320873',
      outTradeNo: 'PC20240501000001',
    });
  });

  it('a body changed after signing is refused', async () => {
    const request = signed(envelope());
    request.rawBody = request.rawBody.replace('支付成功', '支付失败');
    expect(await channel.parseNotification(request)).toMatchObject({ verified: false, reason: 'bad_signature' });
  });

  it('a WECHATPAY/SIGNTEST/ probe fails verification', async () => {
    const request = signed(envelope(), { 'wechatpay-signature': 'WECHATPAY/SIGNTEST/' + randomBytes(180).toString('base64') });
    expect(await channel.parseNotification(request)).toMatchObject({ verified: false, reason: 'bad_signature' });
  });

  it('missing headers, unknown serial and a stale timestamp are refused', async () => {
    const body = envelope();
    expect(await channel.parseNotification({ rawBody: body, headers: {} })).toMatchObject({
      verified: false,
      reason: 'missing_headers',
    });
    expect(await channel.parseNotification(signed(body, { 'wechatpay-serial': 'PUB_KEY_ID_OTHER' }))).toMatchObject({
      verified: false,
      reason: 'unknown_serial',
    });
    expect(await channel.parseNotification(signed(body, { 'wechatpay-timestamp': String(NOW_S - 300) }))).toMatchObject({
      verified: false,
      reason: 'stale_timestamp',
    });
    expect(await channel.parseNotification(signed(body, { 'wechatpay-timestamp': String(NOW_S - 299) }))).toMatchObject({
      verified: true,
    });
  });

  it('another merchant or app → wrong_merchant, with the out_trade_no', async () => {
    for (const over of [{ mchid: '1900000109' }, { appid: 'wx0000000000000000' }]) {
      const result = await channel.parseNotification(signed(envelope({ tx: transaction(over) })));
      expect(result).toEqual({
        verified: false,
        reason: 'wrong_merchant',
        notificationId: 'EV-2018022511223320873',
        outTradeNo: 'PC20240501000001',
      });
    }
  });

  it('an algorithm other than AEAD_AES_256_GCM → unsupported_algorithm', async () => {
    const result = await channel.parseNotification(signed(envelope({ algorithm: 'AEAD_SM4_GCM' })));
    expect(result).toMatchObject({ verified: false, reason: 'unsupported_algorithm' });
  });

  it('an event neither TRANSACTION.* nor REFUND.*, or one whose original_type disagrees → unsupported_event', async () => {
    for (const [eventType, originalType] of [['MARKETING.COUPON', 'transaction'], ['REFUND.SUCCESS', 'transaction']]) {
      const result = await channel.parseNotification(signed(envelope({ eventType, originalType })));
      expect(result).toMatchObject({ verified: false, reason: 'unsupported_event', outTradeNo: 'PC20240501000001' });
    }
  });

  it('a broken envelope → bad_envelope, never a throw', async () => {
    for (const rawBody of ['', 'not json', '[]', '{"id":"EV-1"}', envelope({ resourceType: 'plain' })]) {
      expect(await channel.parseNotification(signed(rawBody))).toMatchObject({ verified: false, reason: 'bad_envelope' });
    }
    const junk = { rawBody: undefined, headers: undefined } as unknown as RawHttpRequest;
    expect(await channel.parseNotification(junk)).toMatchObject({ verified: false, reason: 'missing_headers' });
  });

  it('a resource that decrypts to something other than a transaction → bad_resource', async () => {
    expect(await channel.parseNotification(signed(envelope({ plaintext: 'hello' })))).toMatchObject({
      verified: false,
      reason: 'bad_resource',
    });
    const tx = transaction({ out_trade_no: undefined });
    expect(await channel.parseNotification(signed(envelope({ tx })))).toMatchObject({
      verified: false,
      reason: 'bad_resource',
    });
  });
});

describe('wechatpay notification ack', () => {
  it('accepts with 204 and an empty body', () => {
    expect(channel.notificationAck(true)).toEqual({ statusCode: 204, contentType: 'application/json', body: '' });
  });

  it('refuses with 400 and FAIL (never 200, which WeChat would not retry)', () => {
    const ack = channel.notificationAck(false, 'bad_signature');
    expect(ack.statusCode).toBe(400);
    expect(JSON.parse(ack.body)).toEqual({ code: 'FAIL', message: 'bad_signature' });
  });
});
