// Drives the adapter against a tiny gateway that answers like Alipay (channels.md §2): it checks
// each request's RSA2 signature and where each parameter travels, and signs its answers with a
// test "Alipay" key by splicing the signed node verbatim into the outer JSON (§2.3).
import { sign, verify, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAlipayChannel } from '../../src/channels/alipay/index.ts';
import type { Channel, CreatePaymentInput, TradeRef } from '../../src/channels/types.ts';
import { ALIPAY_APP_ID, alipayTestConfig, rsaKeyPair } from '../helpers/channel-keys.ts';

const app = rsaKeyPair();
const alipay = rsaKeyPair();
const impostor = rsaKeyPair();

const APP_ID = ALIPAY_APP_ID;
const OUT_TRADE_NO = 'pc0000000000000000000000000001';
const CREATED_AT = new Date('2024-05-01T04:00:00Z');
/** 2024-05-01 12:15:00 in Beijing. */
const EXPIRES_AT = new Date('2024-05-01T04:15:00Z');
const GRACE_MS = 60_000;
const TIMEOUT_MS = 300;
const ref: TradeRef = { outTradeNo: OUT_TRADE_NO, createdAt: CREATED_AT, expiresAt: EXPIRES_AT };
const input: CreatePaymentInput = {
  outTradeNo: OUT_TRADE_NO,
  amountMinor: 8888,
  currency: 'CNY',
  description: '测试订单 A&B',
  expiresAt: EXPIRES_AT,
  createdAt: CREATED_AT,
  method: 'qr',
};

/** What the gateway saw of one request. */
interface Received {
  httpMethod: string;
  path: string;
  contentType: string;
  query: Record<string, string>;
  body: Record<string, string>;
  /** The brief's rule: every parameter but sign (sign_type included), empty ones left out, sorted. */
  signatureValid: boolean;
  biz: Record<string, unknown>;
}

type Reply = { status?: number; body: string } | 'hang';
let reply: (r: Received) => Reply;
let received: Received[] = [];
let now = CREATED_AT;

function checkRequestSignature(params: Record<string, string>, key: KeyObject = app.publicKey): boolean {
  const content = Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return verify('sha256', Buffer.from(content, 'utf8'), key, Buffer.from(params.sign ?? '', 'base64'));
}

/** `{"<method>_response":<node>,"sign":"…"}`, the node serialized once and signed as sent. */
function signed(method: string, node: Record<string, unknown>, key = alipay.privateKey): Reply {
  const raw = JSON.stringify(node);
  const signature = sign('sha256', Buffer.from(raw, 'utf8'), key).toString('base64');
  return { body: `{"${method.replace(/\./g, '_')}_response":${raw},"sign":"${signature}"}` };
}

const fail = (method: string, subCode: string, code = '40004') =>
  signed(method, { code, msg: 'Business Failed', sub_code: subCode, sub_msg: subCode });

function trade(status: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    code: '10000',
    msg: 'Success',
    trade_no: '2024050122001400000000000001',
    out_trade_no: OUT_TRADE_NO,
    buyer_logon_id: '159****5620',
    trade_status: status,
    total_amount: '88.88',
    buyer_pay_amount: '88.88',
    send_pay_date: '2024-05-01 12:01:02',
    ...over,
  };
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const query = Object.fromEntries(url.searchParams);
    const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const r: Received = {
      httpMethod: req.method ?? '',
      path: url.pathname,
      contentType: req.headers['content-type'] ?? '',
      query,
      body,
      signatureValid: checkRequestSignature({ ...query, ...body }),
      biz: JSON.parse(body.biz_content ?? 'null') as Record<string, unknown>,
    };
    received.push(r);
    const answer = reply(r);
    if (answer === 'hang') return; // never answers: the adapter's timeout must end the call
    res.writeHead(answer.status ?? 200, { 'content-type': 'text/html;charset=utf-8', trace_id: 'trace-0001' });
    res.end(answer.body);
  });
});

let channel: Channel;
let gatewayUrl: string;
const baseConfig = () =>
  alipayTestConfig({ app, alipay }, gatewayUrl, { requestTimeoutMs: TIMEOUT_MS, expiryGraceMs: GRACE_MS, privateKeyType: 'pkcs1' });

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gateway.do`;
  channel = createAlipayChannel(baseConfig(), { now: () => now });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
  now = CREATED_AT;
  reply = () => ({ status: 500, body: 'no reply set' });
});

describe('alipay precreate (QR)', () => {
  it('sends a signed call like the SDKs and returns the QR code', async () => {
    reply = (r) => signed('alipay.trade.precreate', { code: '10000', msg: 'Success', out_trade_no: r.biz.out_trade_no, qr_code: 'https://qr.alipay.com/bax0001' });
    expect(await channel.createPayment(input)).toEqual({ kind: 'created', action: { type: 'qr_code', codeUrl: 'https://qr.alipay.com/bax0001' } });

    expect(received).toHaveLength(1);
    const [r] = received as [Received];
    expect(r.httpMethod).toBe('POST');
    expect(r.path).toBe('/gateway.do');
    expect(r.contentType).toBe('application/x-www-form-urlencoded;charset=utf-8');
    expect(r.signatureValid).toBe(true);
    // Common parameters and sign in the query string, biz_content alone in the body.
    expect(Object.keys(r.body)).toEqual(['biz_content']);
    expect(r.query).toEqual({
      app_id: APP_ID,
      method: 'alipay.trade.precreate',
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: '2024-05-01 12:00:00',
      version: '1.0',
      notify_url: 'https://pay.example.com/notify/alipay',
      sign: expect.any(String),
    });
    expect(r.biz).toEqual({ out_trade_no: OUT_TRADE_NO, total_amount: '88.88', subject: '测试订单 A&B', time_expire: '2024-05-01 12:15:00' });
  });

  it.each<[string, string, () => Reply]>([
    ['ACQ.TRADE_HAS_CLOSE', 'rejected', () => fail('alipay.trade.precreate', 'ACQ.TRADE_HAS_CLOSE')],
    ['ACQ.INVALID_PARAMETER', 'rejected', () => fail('alipay.trade.precreate', 'ACQ.INVALID_PARAMETER')],
    ['40002 isv.invalid-signature', 'rejected', () => fail('alipay.trade.precreate', 'isv.invalid-signature', '40002')],
    ['ACQ.TRADE_HAS_SUCCESS (exists, paid)', 'unknown', () => fail('alipay.trade.precreate', 'ACQ.TRADE_HAS_SUCCESS')],
    ['ACQ.CONTEXT_INCONSISTENT (exists)', 'unknown', () => fail('alipay.trade.precreate', 'ACQ.CONTEXT_INCONSISTENT')],
    ['ACQ.SYSTEM_ERROR', 'unknown', () => fail('alipay.trade.precreate', 'ACQ.SYSTEM_ERROR')],
    ['20000', 'unknown', () => fail('alipay.trade.precreate', 'isp.unknow-error', '20000')],
    ['an undocumented ACQ code', 'unknown', () => fail('alipay.trade.precreate', 'ACQ.SOMETHING_NEW')],
    ['10000 without qr_code', 'unknown', () => signed('alipay.trade.precreate', { code: '10000', out_trade_no: OUT_TRADE_NO })],
    ['10000 for another trade', 'unknown', () => signed('alipay.trade.precreate', { code: '10000', out_trade_no: 'other', qr_code: 'https://qr.alipay.com/x' })],
    ['a QR code signed by another key', 'unknown', () => signed('alipay.trade.precreate', { code: '10000', qr_code: 'https://qr.alipay.com/x' }, impostor.privateKey)],
    ['an unsigned QR code', 'unknown', () => ({ body: '{"alipay_trade_precreate_response":{"code":"10000","qr_code":"https://qr.alipay.com/x"}}' })],
    ['HTTP 502', 'unknown', () => ({ status: 502, body: '<html>Bad Gateway</html>' })],
  ])('%s → %s', async (_label, kind, answer) => {
    reply = answer;
    const result = await channel.createPayment(input);
    expect(result.kind).toBe(kind);
    if (result.kind === 'rejected') expect(result.code).not.toBe('');
  });

  it('a rejection carries sub_code and sub_msg', async () => {
    reply = () => fail('alipay.trade.precreate', 'ACQ.TRADE_HAS_CLOSE');
    expect(await channel.createPayment(input)).toEqual({ kind: 'rejected', code: 'ACQ.TRADE_HAS_CLOSE', message: 'ACQ.TRADE_HAS_CLOSE' });
  });

  it.each<[string, Partial<CreatePaymentInput>, string]>([
    ['an unsupported method', { method: 'native' }, 'unsupported_method'],
    ['zero fen', { amountMinor: 0 }, 'invalid_amount'],
    ['a fractional amount', { amountMinor: 88.5 }, 'invalid_amount'],
    ['more than 100 000 000.00 yuan', { amountMinor: 10_000_000_001 }, 'invalid_amount'],
    ['another currency', { currency: 'USD' as 'CNY' }, 'unsupported_currency'],
    ['an empty description', { description: ' ' }, 'invalid_description'],
    ['an invalid expiry', { expiresAt: new Date(NaN) }, 'invalid_expiry'],
  ])('refuses %s locally, without a call', async (_label, over, code) => {
    expect(await channel.createPayment({ ...input, ...over })).toMatchObject({ kind: 'rejected', code });
    expect(received).toHaveLength(0);
  });

  it('accepts exactly 100 000 000.00 yuan', async () => {
    reply = () => signed('alipay.trade.precreate', { code: '10000', qr_code: 'https://qr.alipay.com/x' });
    expect((await channel.createPayment({ ...input, amountMinor: 10_000_000_000 })).kind).toBe('created');
    expect(received[0]?.biz.total_amount).toBe('100000000.00');
  });
});

describe('alipay page pay', () => {
  it('makes no call and returns a signed GET URL on the gateway', async () => {
    const result = await channel.createPayment({ ...input, method: 'page' });
    expect(received).toHaveLength(0);
    if (result.kind !== 'created' || result.action.type !== 'redirect') throw new Error(`not a redirect: ${JSON.stringify(result)}`);
    const url = new URL(result.action.url);
    expect(url.origin + url.pathname).toBe(gatewayUrl);
    const params = Object.fromEntries(url.searchParams);
    expect(checkRequestSignature(params)).toBe(true);
    expect(params).toMatchObject({ app_id: APP_ID, method: 'alipay.trade.page.pay', sign_type: 'RSA2', notify_url: 'https://pay.example.com/notify/alipay' });
    expect(params).not.toHaveProperty('return_url');
    expect(JSON.parse(params.biz_content!)).toEqual({
      out_trade_no: OUT_TRADE_NO,
      total_amount: '88.88',
      subject: '测试订单 A&B',
      time_expire: '2024-05-01 12:15:00',
      product_code: 'FAST_INSTANT_TRADE_PAY',
    });
  });

  it('signs return_url in when configured', async () => {
    const withReturn = createAlipayChannel({ ...baseConfig(), returnUrl: 'https://shop.example.com/paid?order=1' }, { now: () => now });
    const result = await withReturn.createPayment({ ...input, method: 'page' });
    if (result.kind !== 'created' || result.action.type !== 'redirect') throw new Error('not a redirect');
    const params = Object.fromEntries(new URL(result.action.url).searchParams);
    expect(params.return_url).toBe('https://shop.example.com/paid?order=1');
    expect(checkRequestSignature(params)).toBe(true);
    expect(checkRequestSignature({ ...params, return_url: 'https://evil.example.com/' })).toBe(false);
  });

  it("signs the payment's own return URL over the configured one", async () => {
    const withReturn = createAlipayChannel({ ...baseConfig(), returnUrl: 'https://shop.example.com/paid' }, { now: () => now });
    const result = await withReturn.createPayment({ ...input, method: 'page', returnUrl: 'https://shop.example.com/orders/42' });
    if (result.kind !== 'created' || result.action.type !== 'redirect') throw new Error('not a redirect');
    const params = Object.fromEntries(new URL(result.action.url).searchParams);
    expect(params.return_url).toBe('https://shop.example.com/orders/42');
    expect(checkRequestSignature(params)).toBe(true);
  });
});

describe('alipay query', () => {
  it('sends out_trade_no alone in biz_content, signed, without notify_url', async () => {
    reply = () => signed('alipay.trade.query', trade('WAIT_BUYER_PAY'));
    await channel.queryPayment(ref);
    const [r] = received as [Received];
    expect(r.signatureValid).toBe(true);
    expect(r.query.method).toBe('alipay.trade.query');
    expect(r.query).not.toHaveProperty('notify_url');
    expect(r.biz).toEqual({ out_trade_no: OUT_TRADE_NO });
  });

  it('TRADE_SUCCESS → paid, with trade_no, fen, CNY and send_pay_date', async () => {
    reply = () => signed('alipay.trade.query', trade('TRADE_SUCCESS'));
    expect(await channel.queryPayment(ref)).toEqual({
      kind: 'paid',
      channelTradeNo: '2024050122001400000000000001',
      amountMinor: 8888,
      currency: 'CNY',
      paidAt: new Date('2024-05-01T04:01:02Z'),
    });
  });

  it.each<[string, string, () => Reply]>([
    ['TRADE_FINISHED', 'paid', () => signed('alipay.trade.query', trade('TRADE_FINISHED'))],
    ['WAIT_BUYER_PAY', 'not_paid', () => signed('alipay.trade.query', trade('WAIT_BUYER_PAY'))],
    ['TRADE_CLOSED', 'closed', () => signed('alipay.trade.query', trade('TRADE_CLOSED'))],
    ['TRADE_SUCCESS with an unreadable amount', 'unknown', () => signed('alipay.trade.query', trade('TRADE_SUCCESS', { total_amount: '88.8.8' }))],
    ['TRADE_SUCCESS for another out_trade_no', 'unknown', () => signed('alipay.trade.query', trade('TRADE_SUCCESS', { out_trade_no: 'other' }))],
    ['TRADE_SUCCESS naming no out_trade_no', 'unknown', () => signed('alipay.trade.query', trade('TRADE_SUCCESS', { out_trade_no: undefined }))],
    ['TRADE_SUCCESS signed by another key', 'unknown', () => signed('alipay.trade.query', trade('TRADE_SUCCESS'), impostor.privateKey)],
    ['ACQ.SYSTEM_ERROR', 'unknown', () => fail('alipay.trade.query', 'ACQ.SYSTEM_ERROR')],
    ['20000', 'unknown', () => fail('alipay.trade.query', 'aop.unknow-error', '20000')],
    ['ACQ.INVALID_PARAMETER', 'unknown', () => fail('alipay.trade.query', 'ACQ.INVALID_PARAMETER')],
    ['error_response', 'unknown', () => ({ body: '{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id"}}' })],
    ['HTTP 503', 'unknown', () => ({ status: 503, body: '' })],
  ])('%s → %s', async (_label, kind, answer) => {
    reply = answer;
    expect((await channel.queryPayment(ref)).kind).toBe(kind);
  });

  it.each<[string, string, number]>([
    ['before time_expire', 'not_found', 0],
    ['just after time_expire, within the grace', 'not_found', EXPIRES_AT.getTime() - CREATED_AT.getTime() + 1000],
    ['at time_expire + grace exactly', 'not_found', EXPIRES_AT.getTime() - CREATED_AT.getTime() + GRACE_MS],
    ['1 ms past time_expire + grace (final)', 'closed', EXPIRES_AT.getTime() - CREATED_AT.getTime() + GRACE_MS + 1],
  ])('ACQ.TRADE_NOT_EXIST %s → %s', async (_label, kind, elapsedMs) => {
    now = new Date(CREATED_AT.getTime() + elapsedMs);
    reply = () => fail('alipay.trade.query', 'ACQ.TRADE_NOT_EXIST');
    expect(await channel.queryPayment(ref)).toEqual({ kind });
  });
});

describe('alipay close', () => {
  const UNTIL = new Date(EXPIRES_AT.getTime() + GRACE_MS);

  it('10000 → closed, having sent out_trade_no alone', async () => {
    reply = () => signed('alipay.trade.close', { code: '10000', msg: 'Success', trade_no: '2024050122001400000000000001', out_trade_no: OUT_TRADE_NO });
    expect(await channel.closePayment(ref)).toEqual({ kind: 'closed' });
    expect(received[0]).toMatchObject({ signatureValid: true, biz: { out_trade_no: OUT_TRADE_NO } });
    expect(received[0]?.query.method).toBe('alipay.trade.close');
  });

  it('ACQ.TRADE_NOT_EXIST before time_expire + grace → closing until then (an unscanned QR can still be scanned)', async () => {
    reply = () => fail('alipay.trade.close', 'ACQ.TRADE_NOT_EXIST');
    expect(await channel.closePayment(ref)).toEqual({ kind: 'closing', until: UNTIL });
    now = UNTIL;
    expect(await channel.closePayment(ref)).toEqual({ kind: 'closing', until: UNTIL });
  });

  it('ACQ.TRADE_NOT_EXIST after time_expire + grace → closed', async () => {
    reply = () => fail('alipay.trade.close', 'ACQ.TRADE_NOT_EXIST');
    now = new Date(UNTIL.getTime() + 1);
    expect(await channel.closePayment(ref)).toEqual({ kind: 'closed' });
  });

  it('ACQ.TRADE_HAS_SUCCESS → paid', async () => {
    reply = () => fail('alipay.trade.close', 'ACQ.TRADE_HAS_SUCCESS');
    expect(await channel.closePayment(ref)).toEqual({ kind: 'paid' });
  });

  it.each<[string, string, Reply]>([
    ['TRADE_SUCCESS', 'paid', signed('alipay.trade.query', trade('TRADE_SUCCESS'))],
    ['TRADE_FINISHED', 'paid', signed('alipay.trade.query', trade('TRADE_FINISHED'))],
    ['TRADE_CLOSED', 'closed', signed('alipay.trade.query', trade('TRADE_CLOSED'))],
    ['WAIT_BUYER_PAY', 'unknown', signed('alipay.trade.query', trade('WAIT_BUYER_PAY'))],
    ['ACQ.SYSTEM_ERROR', 'unknown', fail('alipay.trade.query', 'ACQ.SYSTEM_ERROR')],
    ['no answer', 'unknown', 'hang'],
  ])('ACQ.TRADE_STATUS_ERROR, then a query saying %s → %s', async (_label, kind, queryAnswer) => {
    reply = (r) => (r.query.method === 'alipay.trade.close' ? fail('alipay.trade.close', 'ACQ.TRADE_STATUS_ERROR') : queryAnswer);
    expect((await channel.closePayment(ref)).kind).toBe(kind);
    expect(received.map((r) => r.query.method)).toEqual(['alipay.trade.close', 'alipay.trade.query']);
  });

  it.each<[string, () => Reply]>([
    ['ACQ.SYSTEM_ERROR', () => fail('alipay.trade.close', 'ACQ.SYSTEM_ERROR')],
    ['ACQ.INVALID_PARAMETER', () => fail('alipay.trade.close', 'ACQ.INVALID_PARAMETER')],
    ['ACQ.TRADE_HAS_CLOSE', () => fail('alipay.trade.close', 'ACQ.TRADE_HAS_CLOSE')],
    ['20000', () => fail('alipay.trade.close', 'isp.unknow-error', '20000')],
    ['10000 for another trade', () => signed('alipay.trade.close', { code: '10000', out_trade_no: 'other' })],
    ['10000 unsigned', () => ({ body: '{"alipay_trade_close_response":{"code":"10000"}}' })],
    ['HTTP 500', () => ({ status: 500, body: '' })],
  ])('%s → unknown', async (_label, answer) => {
    reply = answer;
    expect((await channel.closePayment(ref)).kind).toBe('unknown');
  });
});

describe('alipay transport failures', () => {
  it('a gateway that never answers → unknown for create, query and close, within the timeout', async () => {
    reply = () => 'hang';
    const started = Date.now();
    const results = await Promise.all([channel.createPayment(input), channel.queryPayment(ref), channel.closePayment(ref)]);
    expect(results.map((r) => r.kind)).toEqual(['unknown', 'unknown', 'unknown']);
    expect(results.every((r) => r.kind === 'unknown' && r.reason.includes('timeout'))).toBe(true);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 5);
  });

  it('a gateway that refuses connections → unknown', async () => {
    const closed = createAlipayChannel({ ...baseConfig(), gatewayUrl: 'http://127.0.0.1:1/gateway.do' }, { now: () => now });
    expect(await closed.queryPayment(ref)).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('network_error') });
    expect((await closed.createPayment(input)).kind).toBe('unknown');
    expect((await closed.closePayment(ref)).kind).toBe('unknown');
  });

  it('the reason names the trace id and the raw answer for the timeline', async () => {
    reply = () => fail('alipay.trade.query', 'ACQ.SYSTEM_ERROR');
    const result = await channel.queryPayment(ref);
    expect(result.kind === 'unknown' && result.reason).toContain('trace_id=trace-0001');
    expect(result.kind === 'unknown' && result.reason).toContain('ACQ.SYSTEM_ERROR');
  });
});
