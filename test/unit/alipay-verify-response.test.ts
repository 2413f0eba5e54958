import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { responseNodeName, topLevelMembers, verifyAlipayResponse } from '../../src/channels/alipay/verify-response.ts';
import { rsaKeyPair } from '../helpers/channel-keys.ts';

const alipay = rsaKeyPair();
const impostor = rsaKeyPair();
const METHOD = 'alipay.trade.query';

const signRaw = (raw: string, key = alipay.privateKey) => sign('sha256', Buffer.from(raw, 'utf8'), key).toString('base64');

/** As Alipay does it: the node serialized once, signed, and spliced verbatim into the outer JSON. */
function response(raw: string, signature = signRaw(raw)): string {
  return `{"alipay_trade_query_response":${raw},"sign":"${signature}"}`;
}

describe('alipay response verification (§2.3)', () => {
  it('names the node after the method, dots to underscores', () => {
    expect(responseNodeName('alipay.trade.page.pay')).toBe('alipay_trade_page_pay_response');
  });

  it('verifies the raw substring, even where re-serializing would change it', () => {
    // Spacing, a \u escape, a "/" escape and a key order JSON.stringify would not reproduce.
    const raw = '{ "code" : "10000", "msg":"Success",\n "subject":"\\u4e2d\\u6587 \\/ A", "trade_status":"WAIT_BUYER_PAY" }';
    expect(JSON.stringify(JSON.parse(raw))).not.toBe(raw);
    const result = verifyAlipayResponse(response(raw), METHOD, alipay.publicKey);
    expect(result).toEqual({
      ok: true,
      node: { code: '10000', msg: 'Success', subject: '中文 / A', trade_status: 'WAIT_BUYER_PAY' },
    });
  });

  it('honours escaped quotes and braces inside strings when matching braces', () => {
    const raw = '{"code":"10000","subject":"a \\"}\\" b {{ } ]","nested":{"x":["}",{"y":"\\\\"}]},"out_trade_no":"T1"}';
    const body = response(raw);
    expect(topLevelMembers(body)?.[0]?.raw).toBe(raw);
    const result = verifyAlipayResponse(body, METHOD, alipay.publicKey);
    expect(result.ok && result.node.out_trade_no).toBe('T1');
    expect(result.ok && result.node.subject).toBe('a "}" b {{ } ]');
  });

  it('finds the node wherever it sits, and the sign before it', () => {
    const raw = '{"code":"10000","msg":"Success"}';
    const body = `{"sign":"${signRaw(raw)}","other":[1,{"a":"}"}],"n":-1.5e3,"t":true,"z":null,"alipay_trade_query_response":${raw}}`;
    expect(verifyAlipayResponse(body, METHOD, alipay.publicKey).ok).toBe(true);
  });

  it('refuses a node that appears twice, even when one of them is validly signed', () => {
    const good = '{"code":"10000","trade_status":"WAIT_BUYER_PAY"}';
    const forged = '{"code":"10000","trade_status":"TRADE_SUCCESS"}';
    const body = `{"alipay_trade_query_response":${good},"alipay_trade_query_response":${forged},"sign":"${signRaw(good)}"}`;
    // JSON.parse alone would keep the forged one silently.
    expect((JSON.parse(body) as { alipay_trade_query_response: { trade_status: string } }).alipay_trade_query_response.trade_status).toBe('TRADE_SUCCESS');
    expect(verifyAlipayResponse(body, METHOD, alipay.publicKey)).toEqual({ ok: false, reason: 'duplicate_node' });
  });

  it('refuses a repeated sign', () => {
    const raw = '{"code":"10000"}';
    const body = `{"alipay_trade_query_response":${raw},"sign":"${signRaw(raw)}","sign":"${signRaw(raw)}"}`;
    expect(verifyAlipayResponse(body, METHOD, alipay.publicKey)).toEqual({ ok: false, reason: 'missing_sign' });
  });

  it.each<[string, string, string]>([
    ['not JSON', '<html>502 Bad Gateway</html>', 'not_json'],
    ['a truncated body', '{"alipay_trade_query_response":{"code":"10000"', 'not_json'],
    ['a JSON array', '[{"alipay_trade_query_response":{}}]', 'not_json'],
    ['an empty body', '', 'not_json'],
    [
      'an error_response',
      `{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id"},"sign":"${signRaw('{}')}"}`,
      'error_response',
    ],
    ['the node of another method', `{"alipay_trade_close_response":{"code":"10000"},"sign":"${signRaw('{"code":"10000"}')}"}`, 'missing_node'],
    ['a node that is not an object', `{"alipay_trade_query_response":"10000","sign":"${signRaw('"10000"')}"}`, 'missing_node'],
    ['no sign', '{"alipay_trade_query_response":{"code":"10000"}}', 'missing_sign'],
    ['an empty sign', '{"alipay_trade_query_response":{"code":"10000"},"sign":""}', 'missing_sign'],
    ['a sign that is not a string', '{"alipay_trade_query_response":{"code":"10000"},"sign":12}', 'missing_sign'],
    ['a signature by another key', response('{"code":"10000"}', signRaw('{"code":"10000"}', impostor.privateKey)), 'bad_signature'],
    ['a tampered node', response('{"code":"10000","total_amount":"0.01"}', signRaw('{"code":"10000","total_amount":"88.88"}')), 'bad_signature'],
    ['a re-serialized node', response('{"code": "10000"}', signRaw('{"code":"10000"}')), 'bad_signature'],
    ['garbage in sign', response('{"code":"10000"}', '!!!'), 'bad_signature'],
  ])('refuses %s', (_label, body, reason) => {
    expect(verifyAlipayResponse(body, METHOD, alipay.publicKey)).toEqual({ ok: false, reason });
  });
});
