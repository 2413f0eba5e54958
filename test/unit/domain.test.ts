// Pure domain rules: transitions, decisions on channel answers, the query schedule, fingerprints.
import { describe, expect, it } from 'vitest';
import { attemptTransitions, checkTransition, isAllowedTransition, mayCloseOrder, orderTransitions } from '../../src/domain/states.ts';
import { decideOnTradeStatus, type AttemptFacts, type OrderFacts } from '../../src/domain/decisions.ts';
import { defaultQueryScheduleMs, firstQueryAt, nextQuery, type QueryPolicy } from '../../src/domain/schedule.ts';
import { canonicalJson, orderFingerprint } from '../../src/domain/fingerprint.ts';
import { isValidAmountMinor } from '../../src/domain/money.ts';
import { isId, newId, newOutTradeNo } from '../../src/domain/ids.ts';
import { returnUrlProblem, takesReturnUrl } from '../../src/domain/channels.ts';
import type { TradeStatus } from '../../src/channels/types.ts';

describe('transition tables', () => {
  it('allow exactly the documented order transitions', () => {
    expect(orderTransitions).toEqual({
      CREATED: ['PAYING', 'CLOSED'],
      PAYING: ['PAID', 'CLOSED', 'EXCEPTION'],
      EXCEPTION: ['PAID', 'CLOSED'],
      PAID: ['EXCEPTION'],
      CLOSED: ['PAID'],
    });
    expect(isAllowedTransition('order', null, 'CREATED')).toBe(true);
    expect(isAllowedTransition('order', null, 'PAID')).toBe(false);
    expect(isAllowedTransition('order', 'PAID', 'CLOSED')).toBe(false);
    expect(isAllowedTransition('order', 'CLOSED', 'PAYING')).toBe(false);
    expect(() => checkTransition('order', 'ord_1', 'PAID', 'PAYING')).toThrow(/ord_1: PAID → PAYING/);
  });

  it('let the channel’s word make a closed or failed attempt SUCCEEDED, and nothing leave SUCCEEDED', () => {
    expect(attemptTransitions.CLOSED).toEqual(['SUCCEEDED']);
    expect(attemptTransitions.FAILED).toEqual(['SUCCEEDED']);
    expect(attemptTransitions.SUCCEEDED).toEqual([]);
    expect(attemptTransitions.CLOSING).toEqual(['SUCCEEDED', 'CLOSED']);
    expect(isAllowedTransition('attempt', 'CLOSING', 'PENDING')).toBe(false);
    expect(isAllowedTransition('attempt', null, 'CREATING')).toBe(true);
    expect(isAllowedTransition('attempt', 'PENDING', 'CREATING')).toBe(false);
  });
});

describe('decideOnTradeStatus', () => {
  const order = (state: OrderFacts['state'], paidAttemptId: string | null = null): OrderFacts => ({
    id: 'ord_1',
    state,
    amountMinor: 100,
    currency: 'CNY',
    paidAttemptId,
  });
  const attempt = (state: AttemptFacts['state'], id = 'pay_1'): AttemptFacts => ({ id, state, amountMinor: 100, currency: 'CNY' });
  const paid = (amountMinor = 100): TradeStatus => ({ kind: 'paid', channelTradeNo: 't1', amountMinor, currency: 'CNY', paidAt: new Date(0) });
  const q = { source: 'query' as const, closing: false, otherWatchedAttempt: false };
  const closing = { source: 'close' as const, closing: true, otherWatchedAttempt: false };

  it('pays a PAYING order and emits order.paid', () => {
    const d = decideOnTradeStatus(order('PAYING'), attempt('PENDING'), paid(), q);
    expect(d).toMatchObject({ attempt: { to: 'SUCCEEDED', channelTradeNo: 't1' }, order: { to: 'PAID', paidAttemptId: 'pay_1' }, event: 'order.paid', resolved: true });
  });

  it('pays an EXCEPTION order', () => {
    expect(decideOnTradeStatus(order('EXCEPTION'), attempt('PENDING'), paid(), q).order?.to).toBe('PAID');
  });

  it('changes nothing on a repeated paid answer', () => {
    const d = decideOnTradeStatus(order('PAID', 'pay_1'), attempt('SUCCEEDED'), paid(), q);
    expect(d.attempt).toBeUndefined();
    expect(d.order).toBeUndefined();
    expect(d.event).toBeUndefined();
    expect(d.resolved).toBe(true);
  });

  it('never pays on a wrong amount (G5)', () => {
    const d = decideOnTradeStatus(order('PAYING'), attempt('PENDING'), paid(99), q);
    expect(d).toMatchObject({ anomaly: 'amount_mismatch', resolved: false });
    expect(d.order).toBeUndefined();
  });

  it('flags a second paid attempt as a duplicate payment and a paid closed order as late', () => {
    expect(decideOnTradeStatus(order('PAID', 'pay_0'), attempt('PENDING'), paid(), q).anomaly).toBe('duplicate_payment');
    const late = decideOnTradeStatus(order('CLOSED'), attempt('CLOSED'), paid(), q);
    expect(late).toMatchObject({ anomaly: 'late_payment', attempt: { to: 'SUCCEEDED' } });
    expect(late.order).toBeUndefined();
  });

  it('refunds a duplicate or late payment in full, once: only when the attempt first becomes SUCCEEDED', () => {
    expect(decideOnTradeStatus(order('PAID', 'pay_0'), attempt('PENDING'), paid(), q).refund).toBe('duplicate');
    expect(decideOnTradeStatus(order('PAID', 'pay_0'), attempt('SUCCEEDED'), paid(), q).refund).toBeUndefined();
    expect(decideOnTradeStatus(order('CLOSED'), attempt('CLOSING'), paid(), q).refund).toBe('late');
    expect(decideOnTradeStatus(order('CLOSED'), attempt('SUCCEEDED'), paid(), q).refund).toBeUndefined();
    expect(decideOnTradeStatus(order('PAYING'), attempt('PENDING'), paid(), q).refund).toBeUndefined();
  });

  it('never closes an order that was paid (the reconciliation moved it to EXCEPTION): its money was taken', () => {
    const reconciled = order('EXCEPTION', 'pay_0');
    for (const ctx of [q, closing]) {
      const d = decideOnTradeStatus(reconciled, attempt('CLOSING'), { kind: 'closed' }, ctx);
      expect(d.attempt?.to).toBe('CLOSED');
      expect(d.order).toBeUndefined();
    }
    expect(mayCloseOrder(reconciled)).toBe(false);
    expect(mayCloseOrder(order('EXCEPTION'))).toBe(true);
    expect(mayCloseOrder(order('PAID', 'pay_0'))).toBe(false);
  });

  it('reopens a closed order as PAID instead of refunding when late payments are accepted', () => {
    const d = decideOnTradeStatus(order('CLOSED'), attempt('CLOSED'), paid(), { ...q, acceptLatePayment: true });
    expect(d).toMatchObject({ order: { to: 'PAID', paidAttemptId: 'pay_1' }, event: 'order.paid', anomaly: 'late_payment' });
    expect(d.refund).toBeUndefined();
  });

  it('closes the order with its last open attempt, whoever closed the trade', () => {
    const closed: TradeStatus = { kind: 'closed' };
    for (const ctx of [q, closing]) {
      expect(decideOnTradeStatus(order('PAYING'), attempt('PENDING'), closed, ctx)).toMatchObject({
        attempt: { to: 'CLOSED' },
        order: { to: 'CLOSED' },
        event: 'order.closed',
      });
    }
    expect(decideOnTradeStatus(order('EXCEPTION'), attempt('PENDING'), closed, q).order?.to).toBe('CLOSED');
  });

  it('keeps the order open when a query sees a trade closed before the expiry (a switch closed it)', () => {
    const d = decideOnTradeStatus(order('PAYING'), attempt('PENDING'), { kind: 'closed' }, { ...q, beforeExpiry: true });
    expect(d.attempt?.to).toBe('CLOSED');
    expect(d.order).toBeUndefined();
    expect(decideOnTradeStatus(order('PAYING'), attempt('PENDING'), { kind: 'closed' }, { ...closing, beforeExpiry: true }).order?.to).toBe('CLOSED');
  });

  it('keeps the order open while another attempt could still be paid: open, or CLOSING', () => {
    const d = decideOnTradeStatus(order('PAYING'), attempt('PENDING'), { kind: 'closed' }, { ...q, otherWatchedAttempt: true });
    expect(d.attempt?.to).toBe('CLOSED');
    expect(d.order).toBeUndefined();
  });

  it('closes an order left open after its attempt was closed', () => {
    const d = decideOnTradeStatus(order('EXCEPTION'), attempt('CLOSED'), { kind: 'closed' }, q);
    expect(d).toMatchObject({ order: { to: 'CLOSED' }, event: 'order.closed', resolved: true });
    expect(d.attempt).toBeUndefined();
    expect(decideOnTradeStatus(order('PAID', 'pay_1'), attempt('SUCCEEDED'), { kind: 'closed' }, q).order).toBeUndefined();
  });

  it('treats "not found" as "not created yet" unless we have closed the trade', () => {
    const notFound: TradeStatus = { kind: 'not_found' };
    expect(decideOnTradeStatus(order('PAYING'), attempt('CREATING'), notFound, q)).toMatchObject({ resolved: false });
    expect(decideOnTradeStatus(order('PAYING'), attempt('CREATING'), notFound, closing).order?.to).toBe('CLOSED');
  });

  describe('a close the channel can only honour at the trade’s expiry (UnionPay, an unscanned Alipay QR)', () => {
    const deferred = { ...closing, closeDeferred: true };
    const switching = { ...deferred, keepOrderOpen: true };

    it('leaves the attempt CLOSING, still watched, and the order open until the channel has closed it', () => {
      for (const status of [{ kind: 'not_found' }, { kind: 'not_paid' }] as TradeStatus[]) {
        const d = decideOnTradeStatus(order('PAYING'), attempt('PENDING'), status, deferred);
        expect(d).toMatchObject({ attempt: { to: 'CLOSING' }, resolved: true });
        expect(d.order).toBeUndefined();
      }
      expect(decideOnTradeStatus(order('PAYING'), attempt('CLOSING'), { kind: 'closed' }, deferred).order?.to).toBe('CLOSED');
    });

    it('keeps the order open when the buyer switches to another attempt', () => {
      const d = decideOnTradeStatus(order('PAYING'), attempt('PENDING'), { kind: 'not_found' }, switching);
      expect(d).toMatchObject({ attempt: { to: 'CLOSING' }, resolved: true });
      expect(d.order).toBeUndefined();
      const closedNow = decideOnTradeStatus(order('PAYING'), attempt('PENDING'), { kind: 'closed' }, { ...closing, keepOrderOpen: true });
      expect(closedNow.attempt?.to).toBe('CLOSED');
      expect(closedNow.order).toBeUndefined();
    });

    it('keeps watching a CREATING attempt not found at close until its expiry: our create may still arrive', () => {
      const early = decideOnTradeStatus(order('PAYING'), attempt('CREATING'), { kind: 'not_found' }, { ...closing, beforeExpiry: true });
      expect(early.attempt?.to).toBe('CLOSING');
      const late = decideOnTradeStatus(order('PAYING'), attempt('CLOSING'), { kind: 'not_found' }, { ...closing, beforeExpiry: false });
      expect(late.attempt?.to).toBe('CLOSED');
      expect(decideOnTradeStatus(order('PAYING'), attempt('PENDING'), { kind: 'not_found' }, { ...closing, beforeExpiry: true }).attempt?.to).toBe('CLOSED');
    });

    it('lets a CLOSING attempt end CLOSED or SUCCEEDED, a payment on it counting like any other', () => {
      expect(decideOnTradeStatus(order('PAYING'), attempt('CLOSING'), { kind: 'closed' }, q).attempt?.to).toBe('CLOSED');
      expect(decideOnTradeStatus(order('PAYING'), attempt('CLOSING'), paid(), q)).toMatchObject({ attempt: { to: 'SUCCEEDED' }, order: { to: 'PAID' } });
      expect(decideOnTradeStatus(order('PAID', 'pay_0'), attempt('CLOSING'), paid(), q).anomaly).toBe('duplicate_payment');
      expect(decideOnTradeStatus(order('CLOSED'), attempt('CLOSING'), paid(), q).anomaly).toBe('late_payment');
      expect(decideOnTradeStatus(order('PAYING'), attempt('CLOSING'), { kind: 'not_found' }, q)).toMatchObject({ resolved: false });
    });
  });

  it('infers nothing from unknown or not-paid answers (G6)', () => {
    for (const status of [{ kind: 'unknown', reason: 'timeout' }, { kind: 'not_paid' }] as TradeStatus[]) {
      const d = decideOnTradeStatus(order('PAYING'), attempt('CREATING'), status, q);
      expect(d.attempt).toBeUndefined();
      expect(d.order).toBeUndefined();
      expect(d.resolved).toBe(false);
    }
  });
});

describe('query schedule', () => {
  const policy: QueryPolicy = { scheduleMs: [1000, 2000], exceptionIntervalMs: 60_000, exceptionWindowMs: 3_600_000 };
  const t0 = new Date('2026-01-01T00:00:00Z');
  const at = (ms: number) => new Date(t0.getTime() + ms);

  it('by default starts at 30 s and backs off to cover the expiry plus the margin', () => {
    const schedule = defaultQueryScheduleMs(15 * 60_000);
    expect(schedule[0]).toBe(30_000);
    expect(Math.max(...schedule)).toBe(300_000);
    expect(schedule.slice(1).reduce((a, b) => a + b, 30_000)).toBeGreaterThanOrEqual(17 * 60_000);
  });

  it('runs the steps of the schedule, then repeats the last delay until the expiry', () => {
    expect(firstQueryAt(policy, t0, at(60_000))).toEqual(at(1000));
    expect(nextQuery(policy, { step: 0, now: at(1000), attemptCreatedAt: t0, orderExpiresAt: at(60_000), orderIsException: false })).toEqual({
      kind: 'query',
      step: 1,
      runAt: at(3000),
    });
    expect(nextQuery(policy, { step: 5, now: at(9000), attemptCreatedAt: t0, orderExpiresAt: at(60_000), orderIsException: false })).toEqual({
      kind: 'query',
      step: 6,
      runAt: at(11_000),
    });
  });

  it('lands a step exactly on the expiry instead of overshooting it', () => {
    expect(nextQuery(policy, { step: 1, now: at(3000), attemptCreatedAt: t0, orderExpiresAt: at(4000), orderIsException: false }).kind).toBe('query');
    expect(nextQuery(policy, { step: 1, now: at(3000), attemptCreatedAt: t0, orderExpiresAt: at(4000), orderIsException: false })).toMatchObject({ runAt: at(4000) });
  });

  it('escalates to EXCEPTION once the schedule is spent past the expiry, then queries slowly within the window', () => {
    expect(nextQuery(policy, { step: 1, now: at(5000), attemptCreatedAt: t0, orderExpiresAt: at(4000), orderIsException: false })).toEqual({
      kind: 'exception',
      step: 2,
      runAt: at(65_000),
    });
    expect(nextQuery(policy, { step: 2, now: at(65_000), attemptCreatedAt: t0, orderExpiresAt: at(4000), orderIsException: true })).toEqual({
      kind: 'query',
      step: 3,
      runAt: at(125_000),
    });
    expect(nextQuery(policy, { step: 9, now: at(3_590_000), attemptCreatedAt: t0, orderExpiresAt: at(4000), orderIsException: true })).toEqual({
      kind: 'stop',
    });
  });
});

describe('fingerprints and money', () => {
  it('ignores key order and merchantOrderNo, and distinguishes every content field', () => {
    const base = { amount: 100, currency: 'CNY', subject: 's', metadata: { a: '1', b: '2' } };
    expect(orderFingerprint('app', base)).toBe(orderFingerprint('app', { ...base, metadata: { b: '2', a: '1' } }));
    for (const change of [{ amount: 101 }, { subject: 't' }, { customerId: 'c' }, { description: 'd' }, { metadata: { a: '1' } }]) {
      expect(orderFingerprint('app', { ...base, ...change })).not.toBe(orderFingerprint('app', base));
    }
    expect(orderFingerprint('other', base)).not.toBe(orderFingerprint('app', base));
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe('{"a":[2,{"c":2,"d":1}],"b":1}');
  });

  it('accepts whole positive amounts up to the maximum only', () => {
    expect([1, 10_000_000_000].map(isValidAmountMinor)).toEqual([true, true]);
    expect([0, -1, 1.5, 10_000_000_001, Number.NaN].map(isValidAmountMinor)).toEqual([false, false, false, false, false]);
  });

  it('mints out_trade_no values inside every channel’s limits', () => {
    for (let i = 0; i < 200; i++) expect(newOutTradeNo()).toMatch(/^pc[0-9a-z]{30}$/);
  });
});

describe('returnUrlProblem and takesReturnUrl', () => {
  it('takes a return URL only for the redirect methods', () => {
    expect(takesReturnUrl('alipay', 'page')).toBe(true);
    expect(takesReturnUrl('unionpay', 'gateway')).toBe(true);
    expect(takesReturnUrl('alipay', 'qr')).toBe(false);
    expect(takesReturnUrl('wechatpay', 'native')).toBe(false);
  });
  it.each([
    ['/orders/1', /absolute/],
    ['javascript:alert(1)', /http or https/],
    ['ftp://shop.example.com/x', /http or https/],
    ['https://user:pw@shop.example.com/x', /user name or password/],
    [`https://shop.example.com/${'x'.repeat(240)}`, /at most 256/],
  ])('refuses %s', (url, reason) => {
    expect(returnUrlProblem(url)).toMatch(reason);
  });
  it('accepts an http(s) URL with a query', () => {
    expect(returnUrlProblem('https://shop.example.com/orders/42?from=pay')).toBeNull();
    expect(returnUrlProblem('http://127.0.0.1:8080/demo/orders/ord_1')).toBeNull();
  });
});

describe('isId', () => {
  it('accepts what newId makes and nothing else', () => {
    expect(isId('ord', newId('ord'))).toBe(true);
    expect(isId('ord', newId('pay'))).toBe(false);
    expect(isId('ord', 'ord_nosuchorder')).toBe(false);
    expect(isId('ord', `ord_${'a'.repeat(21)}\u0000`)).toBe(false);
  });
});
