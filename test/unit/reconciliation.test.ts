// compareBill: one bill against the local records, one row per difference class, and the
// agreements that are not differences.
import { describe, expect, it } from 'vitest';
import type { BillLine } from '../../src/channels/types.ts';
import {
  beijingDate,
  beijingDayWindow,
  compareBill,
  isBillDate,
  plannedAction,
  type LocalAttempt,
  type LocalRecords,
  type LocalRefund,
} from '../../src/domain/reconciliation.ts';
import { resolveConfig } from '../../src/config.ts';

const window = beijingDayWindow('2026-11-24');
const inDay = new Date('2026-11-24T10:00:00+08:00');
const dayBefore = new Date('2026-11-23T23:59:59+08:00');

const paid: LocalAttempt = {
  id: 'pay_1',
  orderId: 'ord_1',
  outTradeNo: 'pc1',
  amountMinor: 1999,
  currency: 'CNY',
  state: 'SUCCEEDED',
  paidAt: inDay,
  orderState: 'PAID',
  orderPaidAttemptId: 'pay_1',
};
const refunded: LocalRefund = {
  id: 're_1',
  orderId: 'ord_1',
  attemptId: 'pay_1',
  outTradeNo: 'pc1',
  outRefundNo: 'rf1',
  amountMinor: 500,
  currency: 'CNY',
  state: 'SUCCEEDED',
  createdAt: inDay,
};
const payLine: BillLine = { kind: 'payment', outTradeNo: 'pc1', channelTradeNo: 'wx1', amountMinor: 1999, currency: 'CNY' };
const refundLine: BillLine = {
  kind: 'refund',
  outTradeNo: 'pc1',
  channelTradeNo: 'wx1',
  outRefundNo: 'rf1',
  amountMinor: 500,
  currency: 'CNY',
  refundStatus: 'succeeded',
};

function records(attempts: LocalAttempt[] = [paid], refunds: LocalRefund[] = [refunded]): LocalRecords {
  return { window, attempts, refunds };
}

describe('compareBill', () => {
  it('all agree → no difference', () => {
    expect(compareBill([payLine, refundLine], records())).toEqual([]);
  });

  it.each<[string, BillLine[], LocalRecords, Record<string, unknown>]>([
    [
      'paid_at_channel_only: a billed payment whose attempt is not SUCCEEDED here',
      [payLine],
      records([{ ...paid, state: 'PENDING', paidAt: null, orderState: 'PAYING', orderPaidAttemptId: null }], []),
      { class: 'paid_at_channel_only', outTradeNo: 'pc1', attemptId: 'pay_1', orderId: 'ord_1', localSide: expect.objectContaining({ state: 'PENDING' }) },
    ],
    [
      'unknown_trade: a billed payment Paycenter never made',
      [payLine, { ...payLine, outTradeNo: 'pcX', channelTradeNo: 'wxX' }],
      records([paid], []),
      { class: 'unknown_trade', outTradeNo: 'pcX', attemptId: null, orderId: null, localSide: null, channelSide: expect.objectContaining({ channelTradeNo: 'wxX' }) },
    ],
    [
      'paid_locally_only: paid here that day, not in the bill',
      [],
      records([paid], []),
      { class: 'paid_locally_only', outTradeNo: 'pc1', attemptId: 'pay_1', channelSide: null },
    ],
    [
      'amount_mismatch: the amount differs',
      [{ ...payLine, amountMinor: 1998 }],
      records([paid], []),
      { class: 'amount_mismatch', channelSide: expect.objectContaining({ amountMinor: 1998 }), localSide: expect.objectContaining({ amountMinor: 1999 }) },
    ],
    [
      'amount_mismatch: the currency differs',
      [{ ...payLine, currency: 'USD' }],
      records([paid], []),
      { class: 'amount_mismatch', channelSide: expect.objectContaining({ currency: 'USD' }) },
    ],
    [
      'refund_at_channel_only: succeeded at the channel, PENDING here',
      [payLine, refundLine],
      records([paid], [{ ...refunded, state: 'PENDING' }]),
      { class: 'refund_at_channel_only', outRefundNo: 'rf1', refundId: 're_1', outTradeNo: 'pc1' },
    ],
    [
      'refund_at_channel_only: succeeded at the channel, FAILED here',
      [payLine, refundLine],
      records([paid], [{ ...refunded, state: 'FAILED' }]),
      { class: 'refund_at_channel_only', refundId: 're_1' },
    ],
    [
      'refund_at_channel_only: still processing at the channel, FAILED here',
      [payLine, { ...refundLine, refundStatus: 'processing' }],
      records([paid], [{ ...refunded, state: 'FAILED' }]),
      { class: 'refund_at_channel_only', refundId: 're_1' },
    ],
    [
      'unknown_refund: a refund number Paycenter never made (UnionPay names no trade)',
      [payLine, refundLine, { ...refundLine, outTradeNo: '', outRefundNo: 'rfX' }],
      records(),
      { class: 'unknown_refund', outRefundNo: 'rfX', outTradeNo: null, refundId: null, localSide: null },
    ],
    [
      'refund_locally_only: succeeded here that day, not in the bill',
      [payLine],
      records(),
      { class: 'refund_locally_only', outRefundNo: 'rf1', outTradeNo: 'pc1', channelSide: null },
    ],
    [
      'refund_locally_only: succeeded here, failed in the bill',
      [payLine, { ...refundLine, refundStatus: 'failed' }],
      records(),
      { class: 'refund_locally_only', outRefundNo: 'rf1', channelSide: expect.objectContaining({ refundStatus: 'failed' }) },
    ],
    [
      'refund_amount_mismatch: the refund amount differs',
      [payLine, { ...refundLine, amountMinor: 499 }],
      records(),
      { class: 'refund_amount_mismatch', outRefundNo: 'rf1', channelSide: expect.objectContaining({ amountMinor: 499 }) },
    ],
  ])('%s', (_name, lines, local, expected) => {
    expect(compareBill(lines, local)).toEqual([expect.objectContaining(expected)]);
  });

  it.each<[string, BillLine, LocalRefund['state']]>([
    ['processing with PENDING', { ...refundLine, refundStatus: 'processing' }, 'PENDING'],
    ['processing with SUCCEEDED (WeChat does not update refund rows)', { ...refundLine, refundStatus: 'processing' }, 'SUCCEEDED'],
    ['failed with FAILED', { ...refundLine, refundStatus: 'failed' }, 'FAILED'],
    ['failed with PENDING (the refund query settles it)', { ...refundLine, refundStatus: 'failed' }, 'PENDING'],
  ])('a refund line %s is not a difference', (_name, line, state) => {
    expect(compareBill([payLine, line], records([paid], [{ ...refunded, state }]))).toEqual([]);
  });

  it('an edge-of-day payment paid the day before but billed today is matched, not reported', () => {
    expect(compareBill([payLine], records([{ ...paid, paidAt: dayBefore }], []))).toEqual([]);
  });

  it('records outside the window that the bill does not name are not differences', () => {
    const other = { ...paid, id: 'pay_2', outTradeNo: 'pc2', paidAt: dayBefore };
    const oldRefund = { ...refunded, id: 're_2', outRefundNo: 'rf2', createdAt: window.to };
    expect(compareBill([payLine, refundLine], records([paid, other], [refunded, oldRefund]))).toEqual([]);
  });

  it('a refunded payment (CLOSED attempt kept SUCCEEDED) billed with its refund agrees', () => {
    const duplicate = { ...paid, id: 'pay_2', outTradeNo: 'pc2', orderPaidAttemptId: 'pay_1' };
    const back = { ...refunded, id: 're_2', attemptId: 'pay_2', outTradeNo: 'pc2', outRefundNo: 'rf2', amountMinor: 1999 };
    const lines: BillLine[] = [
      payLine,
      { ...payLine, outTradeNo: 'pc2', channelTradeNo: 'wx2' },
      { ...refundLine, outTradeNo: 'pc2', outRefundNo: 'rf2', amountMinor: 1999 },
    ];
    expect(compareBill(lines, records([paid, duplicate], [back]))).toEqual([]);
  });
});

describe('plannedAction', () => {
  const [locallyOnly] = compareBill([], records([paid], []));
  it.each<[string, Parameters<typeof plannedAction>[1], string]>([
    ['the order PAID by this attempt → order_exception', paid, 'order_exception'],
    ['the order PAID by another attempt → alert', { ...paid, orderPaidAttemptId: 'pay_2' }, 'alert'],
    ['the order already in EXCEPTION → alert', { ...paid, orderState: 'EXCEPTION' }, 'alert'],
  ])('paid_locally_only with %s', (_name, attempt, action) => {
    expect(plannedAction(locallyOnly!, attempt)).toBe(action);
  });

  it('queries what the channel has and we lack; alerts on the rest', () => {
    const classes = compareBill(
      [{ ...payLine, amountMinor: 1 }, { ...payLine, outTradeNo: 'pcX' }, refundLine],
      records([paid], [{ ...refunded, state: 'PENDING' }]),
    );
    expect(classes.map((d) => [d.class, plannedAction(d, paid)])).toEqual([
      ['amount_mismatch', 'alert'],
      ['unknown_trade', 'alert'],
      ['refund_at_channel_only', 'refund_query_enqueued'],
    ]);
    const [missing] = compareBill([payLine], records([{ ...paid, state: 'CLOSED' }], []));
    expect(plannedAction(missing!, undefined)).toBe('query_enqueued');
  });
});

describe('Beijing days', () => {
  it('a day is [00:00+08, next 00:00+08)', () => {
    expect(window).toEqual({ from: new Date('2026-11-23T16:00:00Z'), to: new Date('2026-11-24T16:00:00Z') });
  });

  it.each([
    ['2026-11-24T15:59:59Z', 0, '2026-11-24'],
    ['2026-11-24T16:00:00Z', 0, '2026-11-25'],
    ['2026-11-24T16:00:00Z', 1, '2026-11-24'],
    ['2026-03-01T02:00:00Z', 1, '2026-02-28'],
  ])('at %s, %i days ago is %s', (now, daysAgo, day) => {
    expect(beijingDate(new Date(now), daysAgo)).toBe(day);
  });

  it.each([
    ['2026-11-24', true],
    ['2024-02-29', true],
    ['2026-02-29', false],
    ['2026-13-01', false],
    ['2026-1-01', false],
    ['20261124', false],
  ])('%s is a bill date: %s', (text, ok) => {
    expect(isBillDate(text)).toBe(ok);
  });
});

describe('PAYCENTER_RECONCILE_CRON', () => {
  const cron = (value?: string) =>
    resolveConfig({}, { PAYCENTER_SANDBOX: 'on', ...(value === undefined ? {} : { PAYCENTER_RECONCILE_CRON: value }) }).reconcileCron;

  it('defaults to 02:00 UTC, 10:00 in Beijing', () => {
    expect(cron()).toBe('0 2 * * *');
  });

  it.each(['30 1 * * *', '*/15 * * * 1-5'])('takes %s', (value) => {
    expect(cron(value)).toBe(value);
  });

  it.each(['0 25 * * *', '0 2 * *', '0 2 * * * *', 'daily'])('refuses %s, naming the key', (value) => {
    expect(() => cron(value)).toThrow(/PAYCENTER_RECONCILE_CRON: must be a cron expression of five fields/);
  });
});
