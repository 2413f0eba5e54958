import { describe, expect, it } from 'vitest';
import {
  REASON_BODY_CHARS,
  classify,
  normalizeCode,
  outcomeOf,
  type AnswerCategory,
  type TransportFact,
} from '../../src/channels/wechatpay/classify.ts';

const err = (code: string, message = 'm') => JSON.stringify({ code, message });

function answer(status: number, body = '', verified = true): TransportFact {
  return {
    kind: 'answer',
    status,
    body,
    requestId: '08F78BB5AF0610D302839A9E0F-0',
    verification: verified ? { ok: true } : { ok: false, reason: 'missing_headers' },
  };
}

type Row = [label: string, fact: TransportFact, outcome: 'success' | 'rejected' | 'unknown', category: AnswerCategory];

const rows: Row[] = [
  ['200 signed', answer(200, '{"code_url":"weixin://x"}'), 'success', 'ok'],
  ['204 signed, empty', answer(204), 'success', 'ok'],
  ['200 unsigned (forged)', answer(200, '{"trade_state":"SUCCESS"}', false), 'unknown', 'unverified'],
  ['204 unsigned', answer(204, '', false), 'unknown', 'unverified'],
  ['201 (just past 200)', answer(201), 'unknown', 'unexpected_status'],
  ['202 USER_PAYING', answer(202, err('USER_PAYING')), 'unknown', 'processing'],
  ['202 without body', answer(202), 'unknown', 'processing'],
  ['203', answer(203), 'unknown', 'unexpected_status'],
  ['205 (just past 204)', answer(205), 'unknown', 'unexpected_status'],
  ['299', answer(299), 'unknown', 'unexpected_status'],
  ['302 redirect', answer(302), 'unknown', 'unexpected_status'],
  ['399 (just below 4xx)', answer(399, err('PARAM_ERROR')), 'unknown', 'unexpected_status'],
  ['400 PARAM_ERROR', answer(400, err('PARAM_ERROR')), 'rejected', 'business_error'],
  ['400 INVALID_REQUEST', answer(400, err('INVALID_REQUEST', '参数错误')), 'rejected', 'business_error'],
  ['400 INVALID_REQUEST 订单已支付', answer(400, err('INVALID_REQUEST', '该订单已支付')), 'rejected', 'order_paid'],
  ['400 ORDER_CLOSED', answer(400, err('ORDER_CLOSED')), 'rejected', 'order_closed'],
  ['400 ORDERCLOSED', answer(400, err('ORDERCLOSED')), 'rejected', 'order_closed'],
  ['400 ORDER_PAID', answer(400, err('ORDER_PAID')), 'rejected', 'order_paid'],
  ['400 ORDERPAID', answer(400, err('ORDERPAID')), 'rejected', 'order_paid'],
  ['403 TRADE_PAID', answer(403, err('TRADE_PAID')), 'rejected', 'order_paid'],
  ['400 SYSTEM_ERROR', answer(400, err('SYSTEM_ERROR')), 'unknown', 'system_error'],
  ['400 SYSTEMERROR', answer(400, err('SYSTEMERROR')), 'unknown', 'system_error'],
  ['400 unsigned', answer(400, err('PARAM_ERROR'), false), 'unknown', 'unverified'],
  ['401 SIGN_ERROR', answer(401, err('SIGN_ERROR')), 'rejected', 'sign_error'],
  ['401 without body', answer(401), 'rejected', 'sign_error'],
  ['403 OUT_TRADE_NO_USED', answer(403, err('OUT_TRADE_NO_USED')), 'rejected', 'out_trade_no_used'],
  ['403 NOT_ENOUGH', answer(403, err('NOT_ENOUGH')), 'rejected', 'business_error'],
  ['403 NO_AUTH', answer(403, err('NO_AUTH')), 'rejected', 'business_error'],
  ['403 RULE_LIMIT', answer(403, err('RULE_LIMIT')), 'rejected', 'business_error'],
  ['403 FREQUENCY_LIMITED', answer(403, err('FREQUENCY_LIMITED')), 'unknown', 'rate_limited'],
  ['404 ORDER_NOT_EXIST', answer(404, err('ORDER_NOT_EXIST')), 'rejected', 'order_not_exist'],
  ['404 ORDERNOTEXIST', answer(404, err('ORDERNOTEXIST')), 'rejected', 'order_not_exist'],
  ['404 without body', answer(404), 'rejected', 'order_not_exist'],
  ['400 ORDER_NOT_EXIST', answer(400, err('ORDER_NOT_EXIST')), 'rejected', 'order_not_exist'],
  ['404 unsigned', answer(404, err('ORDER_NOT_EXIST'), false), 'unknown', 'unverified'],
  ['428 (just below 429)', answer(428), 'rejected', 'business_error'],
  ['429 FREQUENCY_LIMITED', answer(429, err('FREQUENCY_LIMITED')), 'unknown', 'rate_limited'],
  ['429 without body', answer(429), 'unknown', 'rate_limited'],
  ['430 (just above 429)', answer(430), 'rejected', 'business_error'],
  ['499 (last 4xx)', answer(499), 'rejected', 'business_error'],
  ['500 SYSTEM_ERROR', answer(500, err('SYSTEM_ERROR')), 'unknown', 'system_error'],
  ['500 ORDER_PAID (5xx wins)', answer(500, err('ORDER_PAID')), 'unknown', 'system_error'],
  ['500 HTML page', answer(500, '<html>bad gateway</html>'), 'unknown', 'system_error'],
  ['503', answer(503), 'unknown', 'system_error'],
  ['599 (last 5xx)', answer(599), 'unknown', 'system_error'],
  ['600 (past 5xx)', answer(600), 'unknown', 'unexpected_status'],
  ['timeout', { kind: 'timeout', timeoutMs: 10_000 }, 'unknown', 'timeout'],
  ['network error', { kind: 'network_error', detail: 'fetch failed (ECONNRESET: socket hang up)' }, 'unknown', 'network_error'],
];

describe('wechatpay answer classification', () => {
  it.each(rows)('%s → %s (%s)', (_label, fact, outcome, category) => {
    const result = classify(fact);
    expect(result.outcome).toBe(outcome);
    if (result.outcome !== 'success') expect(result.category).toBe(category);
  });

  it('keeps the Request-ID, status and the first bytes of the raw answer in the reason', () => {
    const body = err('SYSTEM_ERROR', 'x'.repeat(1000));
    const result = classify(answer(500, body));
    expect(result.outcome).toBe('unknown');
    if (result.outcome !== 'unknown') return;
    expect(result.reason).toContain('status=500');
    expect(result.reason).toContain('request_id=08F78BB5AF0610D302839A9E0F-0');
    expect(result.reason).toContain(body.slice(0, REASON_BODY_CHARS));
    expect(result.reason).not.toContain(body.slice(0, REASON_BODY_CHARS + 1));
  });

  it('names the failed signature check of an unverified answer', () => {
    const result = classify(answer(200, '{}', false));
    expect(result.outcome === 'unknown' && result.reason).toContain('signature=missing_headers');
  });

  it('gives the channel code and message of a rejection, or HTTP_<status> when there is none', () => {
    const a = classify(answer(403, err('NOT_ENOUGH', '余额不足')));
    expect(a).toMatchObject({ outcome: 'rejected', code: 'NOT_ENOUGH', message: '余额不足' });
    expect(classify(answer(404))).toMatchObject({ outcome: 'rejected', code: 'HTTP_404' });
  });

  it('the success result carries the raw body untouched', () => {
    const body = '{"code_url" : "weixin://x"}';
    expect(classify(answer(200, body))).toMatchObject({ outcome: 'success', status: 200, body });
  });

  it('matches both code spellings', () => {
    expect(normalizeCode('ORDER_NOT_EXIST')).toBe(normalizeCode('ORDERNOTEXIST'));
    expect(normalizeCode('system_error')).toBe('SYSTEMERROR');
  });

  it('decides every category (the exhaustive switch)', () => {
    const all: AnswerCategory[] = [
      'ok', 'timeout', 'network_error', 'unverified', 'processing', 'rate_limited', 'system_error',
      'unexpected_status', 'order_not_exist', 'order_paid', 'order_closed', 'out_trade_no_used', 'sign_error',
      'business_error',
    ];
    const decided = Object.fromEntries(all.map((c) => [c, outcomeOf(c).outcome]));
    expect(decided).toEqual({
      ok: 'success',
      timeout: 'unknown',
      network_error: 'unknown',
      unverified: 'unknown',
      processing: 'unknown',
      rate_limited: 'unknown',
      system_error: 'unknown',
      unexpected_status: 'unknown',
      order_not_exist: 'rejected',
      order_paid: 'rejected',
      order_closed: 'rejected',
      out_trade_no_used: 'rejected',
      sign_error: 'rejected',
      business_error: 'rejected',
    });
  });
});
