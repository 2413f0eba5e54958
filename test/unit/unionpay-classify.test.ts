import { describe, expect, it } from 'vitest';
import {
  categorize,
  outcomeOf,
  tradeStatusFromQuery,
  type QueryCategory,
  type QueryFact,
} from '../../src/channels/unionpay/classify.ts';
import { paidAtOf, readFen } from '../../src/channels/unionpay/trade.ts';

const expected = { merId: '777290058110048', orderId: 'ORD20240101001' };
const verified = (fields: Record<string, string>): QueryFact => ({
  kind: 'answer',
  fields: new Map(Object.entries({ merId: expected.merId, orderId: expected.orderId, ...fields })),
  verification: { ok: true },
});

describe('unionpay query classification (pure)', () => {
  it.each<[QueryCategory, ReturnType<typeof outcomeOf>]>([
    ['paid', 'paid'],
    ['processing', 'not_paid'],
    ['failed', 'not_paid'],
    ['not_found', 'not_found'],
    ['busy', 'unknown'],
    ['bad_query', 'unknown'],
    ['query_refused', 'unknown'],
    ['wrong_trade', 'unknown'],
    ['malformed', 'unknown'],
    ['unverified', 'unknown'],
    ['unparsable', 'unknown'],
    ['http_status', 'unknown'],
    ['timeout', 'unknown'],
    ['network_error', 'unknown'],
  ])('%s → %s', (category, outcome) => {
    expect(outcomeOf(category)).toBe(outcome);
  });

  it.each<[string, QueryFact, QueryCategory]>([
    ['a timeout', { kind: 'timeout', timeoutMs: 10_000 }, 'timeout'],
    [
      'an unverified success',
      { kind: 'answer', fields: new Map([['respCode', '00'], ['origRespCode', '00']]), verification: { ok: false, reason: 'bad_signature', detail: 'mismatch' } },
      'unverified',
    ],
    ['respCode 00 / origRespCode A6', verified({ respCode: '00', origRespCode: 'A6' }), 'paid'],
    ['respCode 00 / origRespCode 04', verified({ respCode: '00', origRespCode: '04' }), 'processing'],
    ['respCode 00 / origRespCode 12', verified({ respCode: '00', origRespCode: '12' }), 'failed'],
    ['respCode 34', verified({ respCode: '34' }), 'not_found'],
    ['respCode 06', verified({ respCode: '06' }), 'busy'],
    ['respCode 11', verified({ respCode: '11' }), 'bad_query'],
    ['respCode 37', verified({ respCode: '37' }), 'query_refused'],
    ['respCode a6 (codes are exact)', verified({ respCode: '00', origRespCode: 'a6' }), 'failed'],
  ])('%s is %s', (_label, fact, category) => {
    expect(categorize(fact, expected)).toBe(category);
  });

  it('keeps the certificate out of the reason, and cuts it to 256 characters', () => {
    const fact = verified({ respCode: '06', respMsg: 'x'.repeat(1000), signPubKeyCert: '-----BEGIN CERTIFICATE-----' });
    const status = tradeStatusFromQuery(fact, { ...expected, final: false, now: new Date() });
    expect(status.kind).toBe('unknown');
    if (status.kind === 'unknown') {
      expect(status.reason).toMatch(/^unionpay busy: respCode=06/);
      expect(status.reason.length).toBeLessThanOrEqual(256);
      expect(status.reason).not.toContain('CERTIFICATE');
    }
  });
});

describe('unionpay paid facts', () => {
  it.each<[string, string | undefined, string | undefined, string | undefined]>([
    ['traceTime in txnTime’s year (Beijing → UTC)', '20240501120000', '0501120305', '2024-05-01T04:03:05.000Z'],
    ['made on 31 December, paid on 1 January', '20241231235900', '0101000105', '2024-12-31T16:01:05.000Z' /* 2025-01-01 00:01:05 Beijing */],
    ['traceTime a little before txnTime (clock skew) stays in that year', '20240101000010', '0101000005', '2023-12-31T16:00:05.000Z'],
    ['a trace time on 29 February of a leap year', '20240228120000', '0229120000', '2024-02-29T04:00:00.000Z'],
    ['no traceTime', '20240501120000', undefined, undefined],
    ['no txnTime', undefined, '0501120305', undefined],
    ['an impossible traceTime', '20240501120000', '1341120305', undefined],
    ['a traceTime of the wrong length', '20240501120000', '050112030', undefined],
  ])('%s', (_label, txnTime, traceTime, iso) => {
    expect(paidAtOf(txnTime, traceTime)?.toISOString()).toBe(iso);
  });

  it.each<[string | undefined, number | undefined]>([
    ['8888', 8888],
    ['0', 0],
    ['1', 1],
    ['999999999999999', 999_999_999_999_999],
    ['1000000000000000', undefined],
    ['08888', undefined],
    ['88.88', undefined],
    ['-1', undefined],
    ['1e3', undefined],
    [' 1', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('txnAmt %j → %j fen', (text, fen) => {
    expect(readFen(text)).toBe(fen);
  });
});
