import { describe, expect, it } from 'vitest';
import {
  REASON_BODY_CHARS,
  categorize,
  classify,
  closeDecision,
  createDecision,
  queryDecision,
  type AnswerCategory,
  type TransportFact,
} from '../../src/channels/alipay/classify.ts';
import { tradeStatusFromAlipay } from '../../src/channels/alipay/trade.ts';

/** A verified answer whose node is `node`; the body is what the timeline keeps. */
function answer(node: Record<string, unknown>, status = 200): TransportFact {
  return {
    kind: 'answer',
    status,
    body: JSON.stringify({ alipay_trade_query_response: node, sign: 'x' }),
    traceId: '0b1f2e3d17040684000001234e5a6b',
    verification: { ok: true, node },
  };
}

const biz = (subCode: string, code = '40004') => answer({ code, msg: 'Business Failed', sub_code: subCode, sub_msg: 'm' });

function unverified(reason: 'bad_signature' | 'missing_sign' | 'duplicate_node' | 'error_response' | 'not_json'): TransportFact {
  return { kind: 'answer', status: 200, body: '{}', traceId: '', verification: { ok: false, reason } };
}

type Row = [label: string, fact: TransportFact, category: AnswerCategory, create: string, query: string, close: string];

/** One row per code: what it is, and what it means to create, query and close. */
const rows: Row[] = [
  ['10000', answer({ code: '10000', msg: 'Success' }), 'ok', 'success', 'success', 'closed'],
  ['10000 with a sub_code', answer({ code: '10000', sub_code: 'x' }), 'ok', 'success', 'success', 'closed'],
  ['timeout', { kind: 'timeout', timeoutMs: 10_000 }, 'timeout', 'unknown', 'unknown', 'unknown'],
  ['network error', { kind: 'network_error', detail: 'ECONNRESET' }, 'network_error', 'unknown', 'unknown', 'unknown'],
  ['HTTP 500', answer({ code: '10000' }, 500), 'http_error', 'unknown', 'unknown', 'unknown'],
  ['HTTP 502', answer({ code: '10000' }, 502), 'http_error', 'unknown', 'unknown', 'unknown'],
  ['HTTP 404', answer({ code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST' }, 404), 'http_error', 'unknown', 'unknown', 'unknown'],
  ['HTTP 302', answer({ code: '10000' }, 302), 'http_error', 'unknown', 'unknown', 'unknown'],
  ['HTTP 201', answer({ code: '10000' }, 201), 'http_error', 'unknown', 'unknown', 'unknown'],
  ['bad signature', unverified('bad_signature'), 'unverified', 'unknown', 'unknown', 'unknown'],
  ['unsigned', unverified('missing_sign'), 'unverified', 'unknown', 'unknown', 'unknown'],
  ['duplicated node', unverified('duplicate_node'), 'unverified', 'unknown', 'unknown', 'unknown'],
  ['error_response', unverified('error_response'), 'unverified', 'unknown', 'unknown', 'unknown'],
  ['not JSON', unverified('not_json'), 'unverified', 'unknown', 'unknown', 'unknown'],
  ['20000 isp.unknow-error', biz('isp.unknow-error', '20000'), 'service_unavailable', 'unknown', 'unknown', 'unknown'],
  ['20000 aop.unknow-error', biz('aop.unknow-error', '20000'), 'service_unavailable', 'unknown', 'unknown', 'unknown'],
  ['40004 ACQ.SYSTEM_ERROR', biz('ACQ.SYSTEM_ERROR'), 'system_error', 'unknown', 'unknown', 'unknown'],
  ['20000 ACQ.SYSTEM_ERROR', biz('ACQ.SYSTEM_ERROR', '20000'), 'system_error', 'unknown', 'unknown', 'unknown'],
  ['20001 auth token', biz('aop.invalid-auth-token', '20001'), 'request_refused', 'rejected', 'unknown', 'unknown'],
  ['40001 missing parameter', biz('isv.missing-method', '40001'), 'request_refused', 'rejected', 'unknown', 'unknown'],
  ['40002 invalid signature', biz('isv.invalid-signature', '40002'), 'request_refused', 'rejected', 'unknown', 'unknown'],
  ['40006 insufficient permission', biz('isv.insufficient-isv-permissions', '40006'), 'request_refused', 'rejected', 'unknown', 'unknown'],
  ['ACQ.TRADE_NOT_EXIST', biz('ACQ.TRADE_NOT_EXIST'), 'trade_not_exist', 'unknown', 'not_exist', 'not_exist'],
  ['ACQ.TRADE_HAS_SUCCESS', biz('ACQ.TRADE_HAS_SUCCESS'), 'trade_has_success', 'unknown', 'unknown', 'paid'],
  ['ACQ.TRADE_HAS_CLOSE', biz('ACQ.TRADE_HAS_CLOSE'), 'trade_has_close', 'rejected', 'unknown', 'unknown'],
  ['ACQ.CONTEXT_INCONSISTENT', biz('ACQ.CONTEXT_INCONSISTENT'), 'context_inconsistent', 'unknown', 'unknown', 'unknown'],
  ['ACQ.TRADE_STATUS_ERROR', biz('ACQ.TRADE_STATUS_ERROR'), 'trade_status_error', 'unknown', 'unknown', 'query'],
  ['ACQ.INVALID_PARAMETER', biz('ACQ.INVALID_PARAMETER'), 'invalid_parameter', 'rejected', 'unknown', 'unknown'],
  ['ACQ.REASON_TRADE_REFUND_FEE_ERR', biz('ACQ.REASON_TRADE_REFUND_FEE_ERR'), 'refund_refused', 'unknown', 'unknown', 'unknown'],
  ['isp.bill_not_exist', biz('isp.bill_not_exist'), 'bill_not_exist', 'unknown', 'unknown', 'unknown'],
  ['40004 another sub_code', biz('ACQ.TOTAL_FEE_EXCEED'), 'other_business_error', 'unknown', 'unknown', 'unknown'],
  ['40004 lower-case sub_code', biz('acq.trade_not_exist'), 'other_business_error', 'unknown', 'unknown', 'unknown'],
  ['40004 inherited property name', biz('toString'), 'other_business_error', 'unknown', 'unknown', 'unknown'],
  ['40004 without sub_code', answer({ code: '40004' }), 'other_business_error', 'unknown', 'unknown', 'unknown'],
  ['undocumented code 40003', biz('ACQ.TRADE_NOT_EXIST', '40003'), 'unexpected_code', 'unknown', 'unknown', 'unknown'],
  ['numeric code 10000', answer({ code: 10000 }), 'unexpected_code', 'unknown', 'unknown', 'unknown'],
  ['no code', answer({ msg: 'Success' }), 'unexpected_code', 'unknown', 'unknown', 'unknown'],
];

describe('alipay answer classification (§2.6)', () => {
  it.each(rows)('%s → %s; create %s, query %s, close %s', (_label, fact, category, create, query, close) => {
    expect(categorize(fact)).toBe(category);
    expect(createDecision(category)).toBe(create);
    expect(queryDecision(category)).toBe(query);
    expect(closeDecision(category)).toBe(close);
  });

  it('the table covers every category (each switch is exhaustive)', () => {
    const covered = new Set(rows.map((r) => r[2]));
    expect(covered.size).toBe(18);
  });

  it('gives sub_code and sub_msg, else code and msg, of a verified answer', () => {
    expect(classify(biz('ACQ.TRADE_HAS_CLOSE'))).toMatchObject({ code: 'ACQ.TRADE_HAS_CLOSE', message: 'm' });
    expect(classify(answer({ code: '40004', msg: 'Business Failed' }))).toMatchObject({ code: '40004', message: 'Business Failed' });
    expect(classify(unverified('bad_signature'))).toMatchObject({ code: 'HTTP_200', message: '' });
    expect(classify(unverified('bad_signature')).node).toBeUndefined();
  });

  it('keeps status, trace id, signature failure and the first bytes of the raw answer in the reason', () => {
    const body = '<html>' + 'x'.repeat(1000);
    const fact: TransportFact = { kind: 'answer', status: 502, body, traceId: 'trace-1', verification: { ok: false, reason: 'not_json' } };
    const { reason } = classify(fact);
    expect(reason).toContain('http_error');
    expect(reason).toContain('status=502');
    expect(reason).toContain('signature=not_json');
    expect(reason).toContain('trace_id=trace-1');
    expect(reason).toContain(body.slice(0, REASON_BODY_CHARS));
    expect(reason).not.toContain(body.slice(0, REASON_BODY_CHARS + 1));
    expect(classify({ kind: 'timeout', timeoutMs: 1500 }).reason).toContain('no answer within 1500 ms');
  });
});

describe('alipay trade_status mapping', () => {
  const NOW = new Date('2024-05-01T04:00:00Z');
  const paid = {
    trade_status: 'TRADE_SUCCESS',
    trade_no: '2024050122001400000000000001',
    out_trade_no: 'T1',
    total_amount: '88.88',
    send_pay_date: '2024-05-01 11:59:30',
  };

  it.each([
    ['TRADE_SUCCESS', 'paid'],
    ['TRADE_FINISHED', 'paid'],
    ['WAIT_BUYER_PAY', 'not_paid'],
    ['TRADE_CLOSED', 'closed'],
    ['TRADE_PENDING', 'unknown'],
    ['trade_success', 'unknown'],
    ['toString', 'unknown'],
    [undefined, 'unknown'],
  ])('%s → %s', (status, kind) => {
    expect(tradeStatusFromAlipay({ ...paid, trade_status: status }, 'send_pay_date', NOW).kind).toBe(kind);
  });

  it('a paid trade carries trade_no, total_amount in fen, CNY and the Beijing payment time', () => {
    expect(tradeStatusFromAlipay(paid, 'send_pay_date', NOW)).toEqual({
      kind: 'paid',
      channelTradeNo: '2024050122001400000000000001',
      amountMinor: 8888,
      currency: 'CNY',
      paidAt: new Date('2024-05-01T03:59:30Z'),
    });
  });

  it('reads the payment time from the field it is told (gmt_payment in notifications)', () => {
    const status = tradeStatusFromAlipay({ ...paid, send_pay_date: undefined, gmt_payment: '2024-05-01 11:58:00' }, 'gmt_payment', NOW);
    expect(status.kind === 'paid' && status.paidAt).toEqual(new Date('2024-05-01T03:58:00Z'));
  });

  it.each([
    ['absent', undefined],
    ['unreadable', '2024-02-30 12:00:00'],
  ])('a payment time that is %s is taken as now', (_label, sendPayDate) => {
    const status = tradeStatusFromAlipay({ ...paid, send_pay_date: sendPayDate }, 'send_pay_date', NOW);
    expect(status.kind === 'paid' && status.paidAt).toEqual(NOW);
  });

  it.each([
    ['no trade_no', { trade_no: undefined }],
    ['an empty trade_no', { trade_no: '' }],
    ['no total_amount', { total_amount: undefined }],
    ['a numeric total_amount', { total_amount: 88.88 }],
    ['three decimals', { total_amount: '88.888' }],
    ['a negative amount', { total_amount: '-88.88' }],
    ['an exponent', { total_amount: '8.888e1' }],
  ])('a TRADE_SUCCESS with %s is unknown, not paid', (_label, over) => {
    expect(tradeStatusFromAlipay({ ...paid, ...over }, 'send_pay_date', NOW).kind).toBe('unknown');
  });
});
