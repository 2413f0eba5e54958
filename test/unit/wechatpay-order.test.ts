import { describe, expect, it } from 'vitest';
import {
  DESCRIPTION_MAX_CHARS,
  buildNativeOrderBody,
  formatTimeExpire,
  truncateDescription,
} from '../../src/channels/wechatpay/native-order.ts';
import { tradeStatusFromTransaction } from '../../src/channels/wechatpay/transaction.ts';

describe('wechatpay native order body', () => {
  const identity = { appId: 'wxd678efh567hg6787', mchId: '1230000109', notifyUrl: 'https://pay.example.com/notify/wechatpay' };

  it('has exactly the documented fields, amount in integer fen', () => {
    const body = buildNativeOrderBody(identity, {
      outTradeNo: 'PC20240501000001',
      amountMinor: 8888,
      currency: 'CNY',
      description: 'Image形象店-深圳腾大-QQ公仔',
      expiresAt: new Date('2024-05-01T04:15:00.789Z'),
      createdAt: new Date('2024-05-01T04:00:00Z'),
      method: 'native',
    });
    expect(JSON.parse(body)).toEqual({
      appid: 'wxd678efh567hg6787',
      mchid: '1230000109',
      description: 'Image形象店-深圳腾大-QQ公仔',
      out_trade_no: 'PC20240501000001',
      time_expire: '2024-05-01T12:15:00+08:00',
      notify_url: 'https://pay.example.com/notify/wechatpay',
      amount: { total: 8888, currency: 'CNY' },
    });
    expect(body).toContain('"total":8888,');
  });

  it.each([
    ['UTC midnight', '2024-01-01T00:00:00Z', '2024-01-01T08:00:00+08:00'],
    ['crosses the date line in Beijing', '2024-12-31T16:00:00Z', '2025-01-01T00:00:00+08:00'],
    ['drops milliseconds (floor, stable across retries)', '2024-06-08T02:34:56.999Z', '2024-06-08T10:34:56+08:00'],
  ])('time_expire: %s', (_label, iso, expected) => {
    expect(formatTimeExpire(new Date(iso))).toBe(expected);
  });

  it.each([
    ['126 characters', 126, 126],
    ['127 characters', 127, 127],
    ['128 characters', 128, 127],
  ])('description of %s keeps %i', (_label, length, kept) => {
    expect(Array.from(truncateDescription('商'.repeat(length)))).toHaveLength(kept);
  });

  it('counts characters, not bytes or UTF-16 units, and never splits a surrogate pair', () => {
    const emoji = '😀'.repeat(DESCRIPTION_MAX_CHARS); // 127 code points, 254 UTF-16 units
    expect(truncateDescription(emoji)).toBe(emoji);
    const cut = truncateDescription('😀'.repeat(130));
    expect(Array.from(cut)).toHaveLength(127);
    expect(cut.endsWith('😀')).toBe(true);
  });
});

describe('wechatpay trade_state mapping', () => {
  const paid = {
    trade_state: 'SUCCESS',
    transaction_id: '4200000000202405011234567890',
    success_time: '2024-05-01T11:59:30+08:00',
    amount: { total: 1, payer_total: 0, currency: 'CNY' },
  };

  it.each([
    ['SUCCESS', 'paid'],
    ['REFUND', 'paid'],
    ['NOTPAY', 'not_paid'],
    ['USERPAYING', 'not_paid'],
    ['CLOSED', 'closed'],
    ['REVOKED', 'closed'],
    ['PAYERROR', 'closed'],
    ['PAYING', 'unknown'],
    ['success', 'unknown'],
    ['toString', 'unknown'],
  ])('%s → %s', (state, kind) => {
    expect(tradeStatusFromTransaction({ ...paid, trade_state: state }).kind).toBe(kind);
  });

  it('a paid trade carries transaction_id, amount.total, currency and success_time', () => {
    expect(tradeStatusFromTransaction(paid)).toEqual({
      kind: 'paid',
      channelTradeNo: '4200000000202405011234567890',
      amountMinor: 1,
      currency: 'CNY',
      paidAt: new Date('2024-05-01T03:59:30Z'),
    });
  });

  it.each([
    ['no transaction_id', { transaction_id: undefined }],
    ['fractional total', { amount: { total: 0.01, currency: 'CNY' } }],
    ['string total', { amount: { total: '1', currency: 'CNY' } }],
    ['negative total', { amount: { total: -1, currency: 'CNY' } }],
    ['no currency', { amount: { total: 1 } }],
    ['no success_time', { success_time: undefined }],
    ['unparseable success_time', { success_time: 'yesterday' }],
  ])('a SUCCESS with %s is unknown, not paid', (_label, over) => {
    expect(tradeStatusFromTransaction({ ...paid, ...over }).kind).toBe('unknown');
  });

  it('a non-object is unknown', () => {
    expect(tradeStatusFromTransaction(null).kind).toBe('unknown');
    expect(tradeStatusFromTransaction([]).kind).toBe('unknown');
  });
});
