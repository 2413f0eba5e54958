// WeChat Pay refunds, refund notifications and daily bills: the decision tables (pure), the bill
// file read by header name, and the adapter's signed calls against a tiny node:http server that
// answers as WeChat does (answers signed with the platform key, the bill file unsigned).
import { createCipheriv, createHash, randomBytes, sign, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkBillDate } from '../../src/channels/bill-date.ts';
import { billRefusalOutcome, parseTradeBill } from '../../src/channels/wechatpay/bill.ts';
import { classify, type TransportFact } from '../../src/channels/wechatpay/classify.ts';
import { createWechatpayChannel } from '../../src/channels/wechatpay/index.ts';
import {
  REFUND_REASON_MAX_CHARS,
  buildRefundBody,
  refundQueryOutcome,
  refundRequestOutcome,
  refundStateOf,
  rejectInvalidRefund,
} from '../../src/channels/wechatpay/refund.ts';
import { buildSignMessage } from '../../src/channels/wechatpay/sign.ts';
import type { BillResult, RawHttpRequest, RefundRequest, RefundStatus } from '../../src/channels/types.ts';
import { WECHATPAY_API_V3_KEY, WECHATPAY_PUBLIC_KEY_ID, rsaKeyPair, wechatpayTestConfig } from '../helpers/channel-keys.ts';

const merchant = rsaKeyPair();
const platform = rsaKeyPair();
const impostor = rsaKeyPair();

const API_V3_KEY = WECHATPAY_API_V3_KEY;
/** 12:00 Beijing on 2024-05-01. */
const NOW = new Date('2024-05-01T04:00:00Z');
const NOW_S = String(Math.floor(NOW.getTime() / 1000));
const PUBLIC_KEY_ID = WECHATPAY_PUBLIC_KEY_ID;

const configFor = (apiBaseUrl: string) => wechatpayTestConfig({ merchant, platform }, apiBaseUrl, 2000);
const config = configFor('http://127.0.0.1:1/sandbox/wechatpay');

const refund: RefundRequest = {
  outRefundNo: 'RF20240501000001',
  createdAt: NOW,
  trade: {
    outTradeNo: 'PC20240501000001',
    createdAt: new Date('2024-05-01T03:00:00Z'),
    expiresAt: new Date('2024-05-01T03:15:00Z'),
  },
  channelTradeNo: '4200000000202405011234567890',
  amountMinor: 1000,
  totalMinor: 8888,
  currency: 'CNY',
  reason: '商品已售完',
};

/** A `Refund` as the refund API and its query answer it. */
function refundObject(over: Record<string, unknown> = {}) {
  return {
    refund_id: '50000000382019052709732678859',
    out_refund_no: refund.outRefundNo,
    transaction_id: refund.channelTradeNo,
    out_trade_no: refund.trade.outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: '招商银行信用卡0403',
    create_time: '2024-05-01T12:00:00+08:00',
    status: 'PROCESSING',
    amount: { total: 8888, refund: 1000, payer_total: 8888, payer_refund: 1000, currency: 'CNY' },
    ...over,
  };
}
const succeededRefund = refundObject({ status: 'SUCCESS', success_time: '2024-05-01T12:00:05+08:00' });
const SUCCEEDED: RefundStatus = {
  kind: 'succeeded',
  amountMinor: 1000,
  channelRefundNo: '50000000382019052709732678859',
  succeededAt: new Date('2024-05-01T04:00:05Z'),
};

const err = (code: string, message = 'm') => JSON.stringify({ code, message });

function answer(status: number, body: unknown = '', verified = true): TransportFact {
  return {
    kind: 'answer',
    status,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    requestId: '08F78BB5AF0610D302839A9E0F-0',
    verification: verified ? { ok: true } : { ok: false, reason: 'missing_headers' },
  };
}

const timeout: TransportFact = { kind: 'timeout', timeoutMs: 2000 };
const networkError: TransportFact = { kind: 'network_error', detail: 'ECONNRESET: socket hang up' };

type Row = [label: string, fact: TransportFact, expected: RefundStatus['kind'], code?: string];

/** Answers that read the same from the refund request and the refund query. */
const sharedRows: Row[] = [
  ['200 PROCESSING', answer(200, refundObject()), 'processing'],
  ['200 SUCCESS', answer(200, succeededRefund), 'succeeded'],
  ['200 CLOSED', answer(200, refundObject({ status: 'CLOSED' })), 'failed', 'CLOSED'],
  ['200 ABNORMAL', answer(200, refundObject({ status: 'ABNORMAL' })), 'failed', 'ABNORMAL'],
  ['200 an undocumented status', answer(200, refundObject({ status: 'REFUNDING' })), 'unknown'],
  ['200 SUCCESS without success_time', answer(200, refundObject({ status: 'SUCCESS' })), 'unknown'],
  ['200 SUCCESS with a fractional refund', answer(200, { ...succeededRefund, amount: { refund: 10.5 } }), 'unknown'],
  ['200 naming another refund', answer(200, refundObject({ out_refund_no: 'RF-OTHER' })), 'unknown'],
  ['200 naming another trade', answer(200, refundObject({ out_trade_no: 'PC-OTHER' })), 'unknown'],
  ['200 not JSON', answer(200, '<html>ok</html>'), 'unknown'],
  ['200 SUCCESS unsigned (forged)', answer(200, succeededRefund, false), 'unknown'],
  ['202', answer(202), 'unknown'],
  ['401 SIGN_ERROR', answer(401, err('SIGN_ERROR')), 'unknown'],
  ['403 NO_AUTH', answer(403, err('NO_AUTH')), 'unknown'],
  ['403 RULE_LIMIT (retry later)', answer(403, err('RULE_LIMIT')), 'unknown'],
  ['403 FREQUENCY_LIMITED', answer(403, err('FREQUENCY_LIMITED')), 'unknown'],
  ['429', answer(429, err('FREQUENCY_LIMITED')), 'unknown'],
  ['500 SYSTEM_ERROR', answer(500, err('SYSTEM_ERROR')), 'unknown'],
  ['404 unsigned', answer(404, err('RESOURCE_NOT_EXISTS'), false), 'unknown'],
  ['timeout', timeout, 'unknown'],
  ['network error', networkError, 'unknown'],
];

const requestRows: Row[] = [
  ...sharedRows,
  ['403 NOT_ENOUGH (exceeds refundable)', answer(403, err('NOT_ENOUGH')), 'failed', 'NOT_ENOUGH'],
  ['403 NOTENOUGH (old spelling)', answer(403, err('NOTENOUGH')), 'failed', 'NOTENOUGH'],
  ['400 INVALID_REQUEST (same number, other body)', answer(400, err('INVALID_REQUEST')), 'failed', 'INVALID_REQUEST'],
  ['400 PARAM_ERROR', answer(400, err('PARAM_ERROR')), 'failed', 'PARAM_ERROR'],
  ['404 RESOURCE_NOT_EXISTS (trade unknown or unpaid)', answer(404, err('RESOURCE_NOT_EXISTS')), 'failed', 'RESOURCE_NOT_EXISTS'],
  ['404 without body', answer(404), 'failed', 'HTTP_404'],
  ['400 SYSTEM_ERROR', answer(400, err('SYSTEM_ERROR')), 'unknown'],
  ['400 an undocumented code', answer(400, err('SOMETHING_NEW')), 'unknown'],
];

const queryRows: Row[] = [
  ...sharedRows,
  ['404 RESOURCE_NOT_EXISTS', answer(404, err('RESOURCE_NOT_EXISTS')), 'not_found'],
  ['404 without body', answer(404), 'not_found'],
  ['403 NOT_ENOUGH (a query cannot fail a refund)', answer(403, err('NOT_ENOUGH')), 'unknown'],
  ['400 INVALID_REQUEST', answer(400, err('INVALID_REQUEST')), 'unknown'],
  ['400 PARAM_ERROR', answer(400, err('PARAM_ERROR')), 'unknown'],
];

describe('wechatpay refund answers', () => {
  it.each(requestRows)('request: %s → %s', (_label, fact, kind, code) => {
    const status = refundRequestOutcome(classify(fact), refund);
    expect(status.kind).toBe(kind);
    if (status.kind === 'failed') expect(status.code).toBe(code);
    if (status.kind === 'unknown') expect(status.reason).not.toBe('');
  });

  it.each(queryRows)('query: %s → %s', (_label, fact, kind, code) => {
    const status = refundQueryOutcome(classify(fact), refund);
    expect(status.kind).toBe(kind);
    if (status.kind === 'failed') expect(status.code).toBe(code);
  });

  it('reads a success with the amount, refund_id and time WeChat states', () => {
    expect(refundQueryOutcome(classify(answer(200, succeededRefund)), refund)).toEqual(SUCCEEDED);
    const other = { ...succeededRefund, amount: { refund: 999 } };
    expect(refundRequestOutcome(classify(answer(200, other)), refund)).toMatchObject({ kind: 'succeeded', amountMinor: 999 });
  });

  it.each([
    ['PROCESSING', 'processing'],
    ['SUCCESS', 'succeeded'],
    ['CLOSED', 'failed'],
    ['ABNORMAL', 'failed'],
    ['success', undefined],
    ['constructor', undefined],
    [undefined, undefined],
  ])('refund status %s → %s', (status, state) => {
    expect(refundStateOf(status)).toBe(state);
  });
});

describe('wechatpay refund request body', () => {
  it('carries the documented fields, the configured notify_url, and is identical on a retry', () => {
    const body = buildRefundBody(config.notifyUrl, refund);
    expect(JSON.parse(body)).toEqual({
      out_trade_no: 'PC20240501000001',
      out_refund_no: 'RF20240501000001',
      reason: '商品已售完',
      notify_url: 'https://pay.example.com/notify/wechatpay',
      amount: { refund: 1000, total: 8888, currency: 'CNY' },
    });
    expect(buildRefundBody(config.notifyUrl, { ...refund })).toBe(body);
  });

  it('cuts the reason to 80 characters without splitting a surrogate pair, and leaves out an empty one', () => {
    const long = JSON.parse(buildRefundBody(config.notifyUrl, { ...refund, reason: '😀'.repeat(81) }));
    expect(Array.from(long.reason)).toHaveLength(REFUND_REASON_MAX_CHARS);
    expect(long.reason).toBe('😀'.repeat(80));
    expect(JSON.parse(buildRefundBody(config.notifyUrl, { ...refund, reason: '' }))).not.toHaveProperty('reason');
    expect(JSON.parse(buildRefundBody(config.notifyUrl, { ...refund, reason: undefined }))).not.toHaveProperty('reason');
  });

  it.each([
    ['a valid refund', {}, undefined],
    ['the whole total', { amountMinor: 8888 }, undefined],
    ['more than the total', { amountMinor: 8889 }, 'invalid_amount'],
    ['zero', { amountMinor: 0 }, 'invalid_amount'],
    ['a fraction of a fen', { amountMinor: 10.5 }, 'invalid_amount'],
    ['another currency', { currency: 'USD' }, 'unsupported_currency'],
    ['a 64-character number', { outRefundNo: 'R'.repeat(64) }, undefined],
    ['a 65-character number', { outRefundNo: 'R'.repeat(65) }, 'invalid_refund_no'],
    ['a number with a space', { outRefundNo: 'RF 1' }, 'invalid_refund_no'],
  ])('%s → %s', (_label, over, code) => {
    const status = rejectInvalidRefund({ ...refund, ...over } as RefundRequest);
    expect(status === undefined ? undefined : status.kind === 'failed' && status.code).toBe(code);
  });
});

// ---- refund notifications ----------------------------------------------------------------------

const channel = createWechatpayChannel(config, { now: () => NOW });

/** The decrypted refund resource of channels.md §1.4. */
function refundResource(over: Record<string, unknown> = {}) {
  return {
    mchid: config.mchId,
    transaction_id: refund.channelTradeNo,
    out_trade_no: refund.trade.outTradeNo,
    refund_id: '50000000382019052709732678859',
    out_refund_no: refund.outRefundNo,
    refund_status: 'SUCCESS',
    success_time: '2024-05-01T12:00:05+08:00',
    user_received_account: '招商银行信用卡0403',
    amount: { total: 8888, refund: 1000, payer_total: 8888, payer_refund: 1000 },
    ...over,
  };
}

function refundNotice(o: { resource?: unknown; eventType?: string; key?: string; tamper?: boolean } = {}): string {
  const nonce = randomBytes(6).toString('hex');
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(o.key ?? API_V3_KEY), Buffer.from(nonce));
  cipher.setAAD(Buffer.from('refund'));
  const data = Buffer.concat([cipher.update(JSON.stringify(o.resource ?? refundResource())), cipher.final(), cipher.getAuthTag()]);
  if (o.tamper) data[5] = data[5]! ^ 0x01;
  return JSON.stringify({
    id: 'EV-2024050112000500001',
    create_time: '2024-05-01T12:00:06+08:00',
    resource_type: 'encrypt-resource',
    event_type: o.eventType ?? 'REFUND.SUCCESS',
    summary: '退款成功',
    resource: {
      original_type: 'refund',
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: data.toString('base64'),
      associated_data: 'refund',
      nonce,
    },
  });
}

function signedNotice(rawBody: string, signer = platform.privateKey): RawHttpRequest {
  const nonce = 'fdasflkja484w';
  const signature = sign('sha256', Buffer.from(`${NOW_S}\n${nonce}\n${rawBody}\n`), signer).toString('base64');
  return {
    rawBody,
    headers: {
      'wechatpay-timestamp': NOW_S,
      'wechatpay-nonce': nonce,
      'wechatpay-signature': signature,
      'wechatpay-serial': PUBLIC_KEY_ID,
      'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
    },
  };
}

describe('wechatpay refund notification', () => {
  it('a signed REFUND.SUCCESS is verified with the refund number and the amount refunded', async () => {
    expect(await channel.parseNotification(signedNotice(refundNotice()))).toEqual({
      verified: true,
      notificationId: 'EV-2024050112000500001',
      outTradeNo: 'PC20240501000001',
      refund: { outRefundNo: 'RF20240501000001', status: SUCCEEDED },
    });
  });

  it.each(['ABNORMAL', 'CLOSED'])('REFUND.%s → failed', async (state) => {
    const body = refundNotice({ eventType: `REFUND.${state}`, resource: refundResource({ refund_status: state, success_time: undefined }) });
    const result = await channel.parseNotification(signedNotice(body));
    expect(result.verified && result.refund?.status).toMatchObject({ kind: 'failed', code: state });
  });

  it('an undocumented refund_status is verified but unknown (confirm by query)', async () => {
    const body = refundNotice({ resource: refundResource({ refund_status: 'MAYBE' }) });
    const result = await channel.parseNotification(signedNotice(body));
    expect(result.verified && result.refund?.status.kind).toBe('unknown');
  });

  it('another merchant → wrong_merchant', async () => {
    const body = refundNotice({ resource: refundResource({ mchid: '1900000109' }) });
    expect(await channel.parseNotification(signedNotice(body))).toEqual({
      verified: false,
      reason: 'wrong_merchant',
      notificationId: 'EV-2024050112000500001',
      outTradeNo: 'PC20240501000001',
    });
  });

  it('a bad signature, a changed body or tampered ciphertext is refused', async () => {
    expect(await channel.parseNotification(signedNotice(refundNotice(), impostor.privateKey))).toMatchObject({
      verified: false,
      reason: 'bad_signature',
    });
    const changed = signedNotice(refundNotice());
    changed.rawBody = changed.rawBody.replace('退款成功', '退款关闭');
    expect(await channel.parseNotification(changed)).toMatchObject({ verified: false, reason: 'bad_signature' });
    expect(await channel.parseNotification(signedNotice(refundNotice({ tamper: true })))).toMatchObject({
      verified: false,
      reason: 'decrypt_failed',
    });
    expect(await channel.parseNotification(signedNotice(refundNotice({ key: 'x'.repeat(32) })))).toMatchObject({
      verified: false,
      reason: 'decrypt_failed',
    });
  });

  it('a refund resource without out_refund_no → bad_resource', async () => {
    const body = refundNotice({ resource: refundResource({ out_refund_no: '' }) });
    expect(await channel.parseNotification(signedNotice(body))).toMatchObject({ verified: false, reason: 'bad_resource' });
  });
});

// ---- the bill file ---------------------------------------------------------------------------

const DETAIL_HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,' +
  '应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,' +
  '手续费,费率,订单金额,申请退款金额,费率备注';
const SUMMARY_HEADER = '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';

type BillRow = Record<string, string>;

const paymentRow = (outTradeNo: string, transactionId: string, yuan: string, over: BillRow = {}): BillRow => ({
  交易时间: '2024-05-01 11:59:30',
  公众账号ID: config.appId,
  商户号: config.mchId,
  微信订单号: transactionId,
  商户订单号: outTradeNo,
  用户标识: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  交易类型: 'NATIVE',
  交易状态: 'SUCCESS',
  付款银行: 'OTHERS',
  货币种类: 'CNY',
  应结订单金额: yuan,
  代金券金额: '0.00',
  退款金额: '0.00',
  充值券退款金额: '0.00',
  商品名称: 'Test, order',
  手续费: '0.00',
  费率: '0.60%',
  订单金额: yuan,
  申请退款金额: '0.00',
  ...over,
});

const refundRow = (outRefundNo: string, yuan: string, status: string): BillRow => ({
  ...paymentRow('PC20240501000001', '4200000000202405011234567890', '0.00'),
  交易状态: 'REFUND',
  微信退款单号: '50000000382019052709732678859',
  商户退款单号: outRefundNo,
  退款金额: yuan,
  退款类型: 'ORIGINAL',
  退款状态: status,
  申请退款金额: yuan,
});

/** The documented file: header, backticked lines, summary header, backticked summary. */
function billFile(rows: BillRow[], header = DETAIL_HEADER.split(',')): string {
  const lines = rows.map((row) => header.map((name) => '`' + (row[name] ?? '')).join(','));
  const summary = '`' + [String(rows.length), '0.00', '0.00', '0.00', '0.00', '0.00', '0.00'].join(',`');
  return [header.join(','), ...lines, SUMMARY_HEADER, summary].join('\r\n') + '\r\n';
}

const billRows = [
  paymentRow('PC20240501000001', '4200000000202405011234567890', '88.88'),
  paymentRow('PC20240501000002', '4200000000202405011234567891', '0.01'),
  refundRow('RF20240501000001', '10.00', 'SUCCESS'),
  refundRow('RF20240501000002', '1.00', 'PROCESSING'),
  refundRow('RF20240501000003', '2.00', 'ABNORMAL'),
  refundRow('RF20240501000004', '3.00', 'CLOSED'),
];

const expectedLines = [
  { kind: 'payment', outTradeNo: 'PC20240501000001', channelTradeNo: '4200000000202405011234567890', amountMinor: 8888, currency: 'CNY' },
  { kind: 'payment', outTradeNo: 'PC20240501000002', channelTradeNo: '4200000000202405011234567891', amountMinor: 1, currency: 'CNY' },
  ...(
    [
      ['RF20240501000001', 1000, 'succeeded'],
      ['RF20240501000002', 100, 'processing'],
      ['RF20240501000003', 200, 'failed'],
      ['RF20240501000004', 300, 'failed'],
    ] as const
  ).map(([outRefundNo, amountMinor, refundStatus]) => ({
    kind: 'refund',
    outTradeNo: 'PC20240501000001',
    channelTradeNo: '4200000000202405011234567890',
    outRefundNo,
    amountMinor,
    currency: 'CNY',
    refundStatus,
  })),
];

describe('wechatpay bill file', () => {
  it('reads payments and refunds by header name, amounts in fen', () => {
    expect(parseTradeBill(billFile(billRows))).toEqual({ kind: 'bill', lines: expectedLines });
  });

  it('reads the same bill with the columns in another order, and with \\n line ends', () => {
    const reversed = DETAIL_HEADER.split(',').reverse();
    expect(parseTradeBill(billFile(billRows, reversed))).toEqual({ kind: 'bill', lines: expectedLines });
    expect(parseTradeBill(billFile(billRows).replace(/\r\n/g, '\n'))).toEqual({ kind: 'bill', lines: expectedLines });
  });

  it('a file with no transactions is an empty bill', () => {
    expect(parseTradeBill(billFile([]))).toEqual({ kind: 'bill', lines: [] });
  });

  it.each<[string, string]>([
    ['an empty file', ''],
    ['a header without 商户退款单号', billFile(billRows).replace('商户退款单号', '退款单号')],
    ['a header naming 订单金额 twice', billFile(billRows).replace('应结订单金额', '订单金额')],
    ['no summary (cut short)', billFile(billRows).split('\r\n').slice(0, 4).join('\r\n')],
    ['a detail line after the summary', billFile(billRows) + '`x\r\n'],
    ['a line with a value missing', billFile(billRows).replace(',`88.88', '')],
    ['a line without backticks', billFile(billRows).replace(/`/g, '')],
    ['a payment amount that is not yuan', billFile([paymentRow('PC1', '4200', '88.888')])],
    ['a negative refund', billFile([refundRow('RF1', '-1.00', 'SUCCESS')])],
    ['a refund without 商户退款单号', billFile([refundRow('', '1.00', 'SUCCESS')])],
    ['an undocumented 退款状态', billFile([refundRow('RF1', '1.00', 'REFUNDCLOSE')])],
    ['an undocumented 交易状态', billFile([paymentRow('PC1', '4200', '1.00', { 交易状态: 'REVOKED' })])],
    ['a line without 商户订单号', billFile([paymentRow('', '4200', '1.00')])],
  ])('%s → unknown, never a partial bill', (_label, text) => {
    expect(parseTradeBill(text).kind).toBe('unknown');
  });
});

describe('wechatpay bill day and refusals', () => {
  it.each<[string, Date, BillResult['kind'] | undefined]>([
    ['2024-05-01', NOW, undefined],
    ['2024-04-30', NOW, undefined],
    ['2024-05-02', NOW, 'not_ready'],
    // 16:00 UTC is already the next day in Beijing.
    ['2024-05-02', new Date('2024-05-01T15:59:59Z'), 'not_ready'],
    ['2024-05-02', new Date('2024-05-01T16:00:00Z'), undefined],
    ['2024-02-30', NOW, 'unknown'],
    ['2024-5-1', NOW, 'unknown'],
    ['2024-05-01&bill_type=SUCCESS', NOW, 'unknown'],
  ])('bill date %s at %s → %s', (date, now, kind) => {
    expect(checkBillDate(date, now)?.kind).toBe(kind);
  });

  it.each<[string, TransportFact, BillResult['kind'], number?]>([
    ['400 NO_STATEMENT_EXIST (no transactions that day)', answer(400, err('NO_STATEMENT_EXIST')), 'bill', 0],
    ['400 NOSTATEMENTEXIST', answer(400, err('NOSTATEMENTEXIST')), 'bill', 0],
    ['400 STATEMENT_CREATING', answer(400, err('STATEMENT_CREATING')), 'not_ready'],
    ['400 NO_STATEMENT_EXIST unsigned', answer(400, err('NO_STATEMENT_EXIST'), false), 'unknown'],
    ['400 PARAM_ERROR', answer(400, err('PARAM_ERROR')), 'unknown'],
    ['404', answer(404), 'unknown'],
    ['500 SYSTEM_ERROR', answer(500, err('SYSTEM_ERROR')), 'unknown'],
    ['timeout', timeout, 'unknown'],
  ])('tradebill %s → %s', (_label, fact, kind, lineCount) => {
    const classified = classify(fact);
    if (classified.outcome === 'success') throw new Error('row must be a refusal');
    const result = billRefusalOutcome(classified);
    expect(result.kind).toBe(kind);
    if (result.kind === 'bill') expect(result.lines).toHaveLength(lineCount!);
  });
});

// ---- the adapter's signed calls, against a fake WeChat Pay ---------------------------------------

interface Received {
  method: string;
  url: string;
  body: string;
  signatureValid: boolean;
}

type Reply = { status: number; body: string | Buffer; signed: boolean };
let respond: (r: Received) => Reply = () => ({ status: 500, body: 'not scripted', signed: false });
const received: Received[] = [];
let server: http.Server;
let baseUrl = '';
let live = channel;

/** Checks the merchant's Authorization over the request exactly as WeChat would. */
function merchantSignatureValid(method: string, url: string, body: string, authorization: string | undefined): boolean {
  const fields = Object.fromEntries(
    [...(authorization ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]] as [string, string]),
  );
  const message = buildSignMessage(method, url, fields.timestamp ?? '', fields.nonce_str ?? '', body);
  return verify('sha256', Buffer.from(message), merchant.publicKey, Buffer.from(fields.signature ?? '', 'base64'));
}

function platformHeaders(body: Buffer): Record<string, string> {
  const nonce = randomBytes(16).toString('hex');
  const message = Buffer.concat([Buffer.from(`${NOW_S}\n${nonce}\n`), body, Buffer.from('\n')]);
  return {
    'wechatpay-timestamp': NOW_S,
    'wechatpay-nonce': nonce,
    'wechatpay-serial': PUBLIC_KEY_ID,
    'wechatpay-signature': sign('sha256', message, platform.privateKey).toString('base64'),
  };
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const method = req.method ?? '';
      const url = req.url ?? '';
      const r = { method, url, body, signatureValid: merchantSignatureValid(method, url, body, req.headers.authorization) };
      received.push(r);
      const reply = respond(r);
      const bytes = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.signed && platformHeaders(bytes)) });
      res.end(bytes);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sandbox/wechatpay`;
  live = createWechatpayChannel(configFor(baseUrl), { now: () => NOW });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received.length = 0;
});

const json = (status: number, value: unknown): Reply => ({ status, body: JSON.stringify(value), signed: true });

describe('wechatpay refund calls', () => {
  it('requestRefund POSTs the signed body and reads PROCESSING as accepted', async () => {
    respond = () => json(200, refundObject());
    expect(await live.requestRefund(refund)).toEqual({ kind: 'processing' });
    expect(received).toHaveLength(1);
    const [call] = received;
    expect(call).toMatchObject({ method: 'POST', url: '/sandbox/wechatpay/v3/refund/domestic/refunds', signatureValid: true });
    expect(call!.body).toBe(buildRefundBody(config.notifyUrl, refund));
  });

  it('requestRefund refuses an invalid refund without calling WeChat', async () => {
    expect(await live.requestRefund({ ...refund, amountMinor: 9000 })).toMatchObject({ kind: 'failed', code: 'invalid_amount' });
    expect(received).toHaveLength(0);
  });

  it('queryRefund GETs the refund by out_refund_no: a success, then a signed 404 as not_found', async () => {
    respond = () => json(200, succeededRefund);
    expect(await live.queryRefund(refund)).toEqual(SUCCEEDED);
    expect(received[0]).toMatchObject({
      method: 'GET',
      url: '/sandbox/wechatpay/v3/refund/domestic/refunds/RF20240501000001',
      body: '',
      signatureValid: true,
    });
    respond = () => json(404, { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' });
    expect(await live.queryRefund(refund)).toEqual({ kind: 'not_found' });
  });
});

describe('wechatpay fetchBill', () => {
  const file = Buffer.from(billFile(billRows), 'utf8');
  const sha1 = createHash('sha1').update(file).digest('hex');

  function billServer(over: { downloadUrl?: string; hashValue?: string; fileBody?: Buffer } = {}) {
    respond = (r) => {
      if (r.url.startsWith('/sandbox/wechatpay/v3/bill/tradebill?')) {
        return json(200, {
          hash_type: 'SHA1',
          hash_value: over.hashValue ?? sha1,
          download_url: over.downloadUrl ?? `${baseUrl}/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA`,
        });
      }
      if (r.url.startsWith('/sandbox/wechatpay/v3/billdownload/file?')) {
        return { status: 200, body: over.fileBody ?? file, signed: false };
      }
      return json(404, { code: 'NOT_FOUND', message: 'no such path' });
    };
  }

  it('asks for the day, downloads with a signed GET, checks the SHA1 and parses the file', async () => {
    billServer();
    expect(await live.fetchBill('2024-05-01')).toEqual({ kind: 'bill', lines: expectedLines });
    expect(received.map((r) => [r.method, r.url.split('?')[0], r.signatureValid])).toEqual([
      ['GET', '/sandbox/wechatpay/v3/bill/tradebill', true],
      ['GET', '/sandbox/wechatpay/v3/billdownload/file', true],
    ]);
    expect(received[0]!.url).toBe('/sandbox/wechatpay/v3/bill/tradebill?bill_date=2024-05-01&bill_type=ALL');
  });

  it('a file whose SHA1 is not the signed hash_value → unknown', async () => {
    billServer({ fileBody: Buffer.from(billFile(billRows.slice(1)), 'utf8') });
    expect(await live.fetchBill('2024-05-01')).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('bill_hash_mismatch') });
  });

  it('a download_url on another host is refused, and never fetched', async () => {
    billServer({ downloadUrl: `${baseUrl.replace('127.0.0.1', 'localhost')}/v3/billdownload/file?token=x` });
    expect(await live.fetchBill('2024-05-01')).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('foreign_download_url') });
    expect(received).toHaveLength(1);
  });

  it('an unsigned tradebill answer is not believed', async () => {
    respond = () => ({ status: 200, body: JSON.stringify({ hash_type: 'SHA1', hash_value: sha1, download_url: baseUrl }), signed: false });
    expect(await live.fetchBill('2024-05-01')).toMatchObject({ kind: 'unknown' });
    expect(received).toHaveLength(1);
  });

  it('400 NO_STATEMENT_EXIST → an empty bill; a future day → not_ready without a call', async () => {
    respond = () => json(400, { code: 'NO_STATEMENT_EXIST', message: '该日期不存在账单文件' });
    expect(await live.fetchBill('2024-04-30')).toEqual({ kind: 'bill', lines: [] });
    received.length = 0;
    expect(await live.fetchBill('2024-05-02')).toMatchObject({ kind: 'not_ready' });
    expect(received).toHaveLength(0);
  });
});
