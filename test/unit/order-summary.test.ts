// The order page's plain-language status: one fixture per question support asks.
import { describe, expect, it } from 'vitest';
import { orderStatusSummary, type SummaryFacts } from '../../src/domain/order-summary.ts';

const now = new Date('2026-03-02T10:40:00Z');
const at = (hhmm: string, day = '2026-03-02') => new Date(`${day}T${hhmm}:00Z`);

const attempt = { id: 'pay_1', channel: 'wechatpay', outTradeNo: 'pc1', state: 'PENDING' as const };

function facts(overrides: Omit<Partial<SummaryFacts>, 'order'> & { order?: Partial<SummaryFacts['order']> } = {}): SummaryFacts {
  return {
    now,
    attempts: [attempt],
    calls: [],
    notifications: [],
    lastOrderReason: null,
    nextQueryAt: null,
    ...overrides,
    order: { state: 'PAYING', paidAttemptId: null, paidAt: null, closedAt: null, expiresAt: at('10:45'), ...overrides.order },
  };
}

const texts = (f: SummaryFacts) => orderStatusSummary(f).map((l) => `${l.tone}: ${l.text}`);

describe('orderStatusSummary', () => {
  it('PAYING, the last query said not paid, no notification: the channel’s last word and the silence', () => {
    const calls = [
      { attemptId: 'pay_1', operation: 'create', outcome: 'created', detail: null, at: at('10:30') },
      { attemptId: 'pay_1', operation: 'query', outcome: 'not_found', detail: null, at: at('10:31') },
      { attemptId: 'pay_1', operation: 'query', outcome: 'not_paid', detail: null, at: at('10:32') },
    ];
    expect(texts(facts({ calls }))).toEqual([
      "info: The buyer has not paid according to WeChat Pay's last answer at 10:32 UTC (query: not paid).",
      'info: No notification has arrived from WeChat Pay about this payment.',
    ]);
  });

  it('PAYING with a scheduled query pending: when Paycenter asks by itself', () => {
    expect(texts(facts({ nextQueryAt: at('10:41') })).at(-1)).toBe(
      'info: Paycenter asks WeChat Pay by itself at 10:41 UTC; "Query channel" asks now.',
    );
  });

  it('PAYING, never queried yet, the query that failed says so as a problem', () => {
    expect(texts(facts())[0]).toBe('info: WeChat Pay has not been queried about this payment yet.');
    const calls = [{ attemptId: 'pay_1', operation: 'query', outcome: 'unknown', detail: 'HTTP 500 SYSTEM_ERROR', at: at('10:33') }];
    expect(texts(facts({ calls }))[0]).toBe(
      'problem: WeChat Pay did not answer the last query at 10:33 UTC (query: no answer, HTTP 500 SYSTEM_ERROR): whether the buyer paid is not known yet.',
    );
  });

  it('PAID by notification: when, and that the notification was verified', () => {
    const f = facts({
      order: { state: 'PAID', paidAttemptId: 'pay_1', paidAt: at('10:35') },
      attempts: [{ ...attempt, state: 'SUCCEEDED' }],
      notifications: [{ verified: true, outcome: 'paid', refusalReason: null, outTradeNo: 'pc1', at: at('10:35') }],
    });
    expect(texts(f)).toEqual(['ok: Paid at 10:35 UTC through WeChat Pay — notification verified at 10:35 UTC.']);
  });

  it('PAID by query after refused notifications: the query is named, the refusals counted as possible forgery', () => {
    const refused = { verified: false, outcome: 'refused', refusalReason: 'bad_signature', outTradeNo: 'pc1' };
    const f = facts({
      order: { state: 'PAID', paidAttemptId: 'pay_1', paidAt: at('09:00', '2026-03-01') },
      attempts: [{ ...attempt, channel: 'alipay', state: 'SUCCEEDED' }],
      calls: [{ attemptId: 'pay_1', operation: 'query', outcome: 'paid', detail: null, at: at('09:00', '2026-03-01') }],
      notifications: [
        { ...refused, at: at('08:58', '2026-03-01') },
        { ...refused, refusalReason: 'wrong_merchant', at: at('08:59', '2026-03-01') },
      ],
    });
    expect(texts(f)).toEqual([
      "ok: Paid at 2026-03-01 09:00 UTC through Alipay — confirmed by Alipay's answer to a query at 2026-03-01 09:00 UTC; no verified notification arrived.",
      'problem: Refused notifications: 2 (possible forgery) — the last at 2026-03-01 08:59 UTC: wrong_merchant.',
    ]);
  });

  it('EXCEPTION never paid: needs an operator, with the channel’s last word', () => {
    const f = facts({
      order: { state: 'EXCEPTION' },
      lastOrderReason: 'query schedule exhausted with the payment unresolved',
      attempts: [{ ...attempt, channel: 'unionpay' }],
      notifications: [{ verified: true, outcome: 'not_paid', refusalReason: null, outTradeNo: 'pc1', at: at('10:20') }],
    });
    expect(texts(f)).toEqual([
      'problem: Needs an operator: query schedule exhausted with the payment unresolved. Query the channel, or resolve the exception.',
      'info: UnionPay has not been queried about this payment yet.',
      'info: The last verified notification from UnionPay arrived at 10:20 UTC (not paid).',
    ]);
  });

  it('EXCEPTION after the reconciliation: paid here, the channel does not confirm; take it up with the channel', () => {
    const f = facts({
      order: { state: 'EXCEPTION', paidAttemptId: 'pay_1', paidAt: at('08:00') },
      attempts: [{ ...attempt, state: 'SUCCEEDED' }],
      lastOrderReason: 'reconciliation: paid locally but missing from the bill',
    });
    expect(texts(f)).toEqual([
      'problem: Paid at 08:00 UTC through WeChat Pay, but WeChat Pay does not confirm the payment (reconciliation: paid locally but missing from the bill): take it up with WeChat Pay.',
    ]);
  });

  it('CREATED and CLOSED: what happened in one line; a payment after the close is flagged', () => {
    expect(texts(facts({ order: { state: 'CREATED' }, attempts: [] }))).toEqual([
      'info: Not paid: no payment has been started (the buyer has not chosen a channel). The order expires at 10:45 UTC.',
    ]);
    const closed = facts({
      order: { state: 'CLOSED', closedAt: at('10:10') },
      lastOrderReason: 'closed by operator alice: buyer cancelled by phone',
      attempts: [{ ...attempt, state: 'SUCCEEDED' }],
    });
    expect(texts(closed)).toEqual([
      'info: Closed at 10:10 UTC: closed by operator alice: buyer cancelled by phone.',
      'problem: A late payment was taken through WeChat Pay (pc1); it is refunded to the buyer automatically (see Refunds).',
    ]);
  });
});
