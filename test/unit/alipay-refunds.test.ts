// Alipay refunds, refund notices and the daily bill (docs/refunds-and-bills.md, channels.md §2.9,
// §2.10), written from the docs: a tiny gateway checks each request's RSA2 signature and answers
// with nodes signed by a test "Alipay" key; bill files are built here in the documented format.
import { sign, verify } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { zipSync } from 'fflate';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAlipayBillZip, parseTradeBill } from '../../src/channels/alipay/bill-file.ts';
import {
  billDecision,
  categorize,
  refundDecision,
  refundQueryDecision,
  type AnswerCategory,
  type TransportFact,
} from '../../src/channels/alipay/classify.ts';
import { createAlipayChannel } from '../../src/channels/alipay/index.ts';
import type { Channel, RefundRequest } from '../../src/channels/types.ts';
import { ALIPAY_APP_ID, ALIPAY_SELLER_ID, alipayTestConfig, rsaKeyPair } from '../helpers/channel-keys.ts';

const app = rsaKeyPair();
const alipay = rsaKeyPair();
const impostor = rsaKeyPair();

const APP_ID = ALIPAY_APP_ID;
const SELLER_ID = ALIPAY_SELLER_ID;
const OUT_TRADE_NO = 'pc0000000000000000000000000001';
const TRADE_NO = '2024050122001400000000000001';
const OUT_REFUND_NO = 'rf0000000000000000000000000001';
/** 2024-05-01 12:00:00 in Beijing. */
const NOW = new Date('2024-05-01T04:00:00Z');
const TIMEOUT_MS = 300;

const refund: RefundRequest = {
  outRefundNo: OUT_REFUND_NO,
  createdAt: NOW,
  trade: { outTradeNo: OUT_TRADE_NO, createdAt: new Date('2024-05-01T03:00:00Z'), expiresAt: new Date('2024-05-01T03:15:00Z') },
  channelTradeNo: TRADE_NO,
  amountMinor: 1234,
  totalMinor: 8888,
  currency: 'CNY',
  reason: '不想要了',
};

// ---------------------------------------------------------------------------------------------
// Classification tables

function answer(node: Record<string, unknown>, status = 200): TransportFact {
  return { kind: 'answer', status, body: '{}', traceId: '', verification: { ok: true, node } };
}
const biz = (subCode: string, code = '40004') => answer({ code, msg: 'Business Failed', sub_code: subCode, sub_msg: 'm' });

type Row = [label: string, fact: TransportFact, category: AnswerCategory, refund: string, refundQuery: string, bill: string];

/** One row per category: what it means to a refund, a refund query and a bill download. */
const rows: Row[] = [
  ['10000', answer({ code: '10000' }), 'ok', 'accepted', 'answer', 'url'],
  ['timeout', { kind: 'timeout', timeoutMs: 1000 }, 'timeout', 'unknown', 'unknown', 'unknown'],
  ['network error', { kind: 'network_error', detail: 'ECONNRESET' }, 'network_error', 'unknown', 'unknown', 'unknown'],
  ['HTTP 502', answer({ code: '10000' }, 502), 'http_error', 'unknown', 'unknown', 'unknown'],
  ['unsigned', { kind: 'answer', status: 200, body: '{}', traceId: '', verification: { ok: false, reason: 'missing_sign' } }, 'unverified', 'unknown', 'unknown', 'unknown'],
  ['20000', biz('isp.unknow-error', '20000'), 'service_unavailable', 'unknown', 'unknown', 'unknown'],
  ['ACQ.SYSTEM_ERROR', biz('ACQ.SYSTEM_ERROR'), 'system_error', 'unknown', 'unknown', 'unknown'],
  ['40002 invalid signature', biz('isv.invalid-signature', '40002'), 'request_refused', 'failed', 'unknown', 'unknown'],
  ['ACQ.TRADE_NOT_EXIST', biz('ACQ.TRADE_NOT_EXIST'), 'trade_not_exist', 'failed', 'not_exist', 'unknown'],
  ['ACQ.TRADE_HAS_SUCCESS', biz('ACQ.TRADE_HAS_SUCCESS'), 'trade_has_success', 'unknown', 'unknown', 'unknown'],
  ['ACQ.TRADE_HAS_CLOSE', biz('ACQ.TRADE_HAS_CLOSE'), 'trade_has_close', 'failed', 'unknown', 'unknown'],
  ['ACQ.CONTEXT_INCONSISTENT', biz('ACQ.CONTEXT_INCONSISTENT'), 'context_inconsistent', 'unknown', 'unknown', 'unknown'],
  ['ACQ.TRADE_STATUS_ERROR', biz('ACQ.TRADE_STATUS_ERROR'), 'trade_status_error', 'failed', 'unknown', 'unknown'],
  ['ACQ.INVALID_PARAMETER', biz('ACQ.INVALID_PARAMETER'), 'invalid_parameter', 'failed', 'unknown', 'unknown'],
  ['ACQ.REASON_TRADE_REFUND_FEE_ERR', biz('ACQ.REASON_TRADE_REFUND_FEE_ERR'), 'refund_refused', 'failed', 'unknown', 'unknown'],
  ['ACQ.SELLER_BALANCE_NOT_ENOUGH', biz('ACQ.SELLER_BALANCE_NOT_ENOUGH'), 'refund_refused', 'failed', 'unknown', 'unknown'],
  ['ACQ.TRADE_NOT_ALLOW_REFUND', biz('ACQ.TRADE_NOT_ALLOW_REFUND'), 'refund_refused', 'failed', 'unknown', 'unknown'],
  ['ACQ.TRADE_HAS_FINISHED', biz('ACQ.TRADE_HAS_FINISHED'), 'refund_refused', 'failed', 'unknown', 'unknown'],
  ['isp.bill_not_exist', biz('isp.bill_not_exist'), 'bill_not_exist', 'unknown', 'unknown', 'empty'],
  ['40004 another sub_code', biz('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL'), 'other_business_error', 'unknown', 'unknown', 'unknown'],
  ['undocumented code', biz('x', '40003'), 'unexpected_code', 'unknown', 'unknown', 'unknown'],
];

describe('alipay refund and bill classification', () => {
  it.each(rows)('%s', (_label, fact, category, r, q, b) => {
    expect(categorize(fact)).toBe(category);
    expect(refundDecision(category)).toBe(r);
    expect(refundQueryDecision(category)).toBe(q);
    expect(billDecision(category)).toBe(b);
  });

  it('the table covers every category', () => {
    expect(new Set(rows.map((r) => r[2])).size).toBe(18);
  });
});

// ---------------------------------------------------------------------------------------------
// A gateway answering like Alipay

interface Received {
  method: string;
  signatureValid: boolean;
  biz: Record<string, unknown>;
}

type Reply = { status?: number; body: string | Buffer } | 'hang';
let reply: (r: Received) => Reply;
let billReply: () => Reply;
let received: Received[] = [];
let downloads = 0;
let now = NOW;

/** The brief's rule: every parameter but sign, empty ones left out, sorted, raw values. */
function checkRequestSignature(params: Record<string, string>): boolean {
  const content = Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return verify('sha256', Buffer.from(content, 'utf8'), app.publicKey, Buffer.from(params.sign ?? '', 'base64'));
}

function signed(method: string, node: Record<string, unknown>, key = alipay.privateKey): Reply {
  const raw = JSON.stringify(node);
  const signature = sign('sha256', Buffer.from(raw, 'utf8'), key).toString('base64');
  return { body: `{"${method.replace(/\./g, '_')}_response":${raw},"sign":"${signature}"}` };
}

const REFUND = 'alipay.trade.refund';
const REFUND_QUERY = 'alipay.trade.fastpay.refund.query';
const BILL_URL = 'alipay.data.dataservice.bill.downloadurl.query';
const fail = (method: string, subCode: string, code = '40004') => signed(method, { code, msg: 'Business Failed', sub_code: subCode, sub_msg: subCode });

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    let answer: Reply;
    if (url.pathname === '/bill/download') {
      downloads++;
      answer = billReply();
    } else {
      const params = { ...Object.fromEntries(url.searchParams), ...Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) };
      const r: Received = { method: params.method ?? '', signatureValid: checkRequestSignature(params), biz: JSON.parse(params.biz_content ?? 'null') };
      received.push(r);
      answer = reply(r);
    }
    if (answer === 'hang') return;
    res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain' });
    res.end(answer.body);
  });
});

let channel: Channel;
let base: string;
const configFor = (gatewayUrl: string) =>
  alipayTestConfig({ app, alipay }, gatewayUrl, { requestTimeoutMs: TIMEOUT_MS, expiryGraceMs: 60_000, privateKeyType: 'pkcs8' });

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  channel = createAlipayChannel(configFor(`${base}/gateway.do`), { now: () => now });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
  downloads = 0;
  now = NOW;
  reply = () => ({ status: 500, body: 'no reply set' });
  billReply = () => ({ status: 500, body: 'no bill set' });
});

const refundDone = (over: Record<string, unknown> = {}) =>
  signed(REFUND, {
    code: '10000',
    msg: 'Success',
    trade_no: TRADE_NO,
    out_trade_no: OUT_TRADE_NO,
    buyer_logon_id: '159****5620',
    fund_change: 'Y',
    refund_fee: '20.00',
    gmt_refund_pay: '2024-05-01 12:00:05',
    ...over,
  });

describe('alipay.trade.refund', () => {
  it('sends a signed refund with the amount in yuan and out_request_no = outRefundNo; fund_change Y is success', async () => {
    reply = () => refundDone();
    expect(await channel.requestRefund(refund)).toEqual({
      kind: 'succeeded',
      // This refund's amount, not refund_fee (the trade's cumulative refunds).
      amountMinor: 1234,
      channelRefundNo: `${TRADE_NO}-${OUT_REFUND_NO}`,
      succeededAt: new Date('2024-05-01T04:00:05Z'),
    });
    const [r] = received as [Received];
    expect(r.method).toBe(REFUND);
    expect(r.signatureValid).toBe(true);
    expect(r.biz).toEqual({ out_trade_no: OUT_TRADE_NO, refund_amount: '12.34', out_request_no: OUT_REFUND_NO, refund_reason: '不想要了' });
  });

  it('a resend carries identical biz_content, so Alipay answers it as the same refund', async () => {
    reply = () => refundDone({ fund_change: 'N' });
    await channel.requestRefund(refund);
    now = new Date(NOW.getTime() + 60_000);
    await channel.requestRefund(refund);
    expect(received[0]!.biz).toEqual(received[1]!.biz);
  });

  it('leaves refund_reason out when there is none', async () => {
    reply = () => refundDone();
    await channel.requestRefund({ ...refund, reason: undefined });
    expect(received[0]!.biz).toEqual({ out_trade_no: OUT_TRADE_NO, refund_amount: '12.34', out_request_no: OUT_REFUND_NO });
  });

  it('without gmt_refund_pay the success time is now', async () => {
    reply = () => refundDone({ gmt_refund_pay: undefined });
    const status = await channel.requestRefund(refund);
    expect(status.kind === 'succeeded' && status.succeededAt).toEqual(NOW);
  });

  it.each<[string, string, () => Reply]>([
    ['fund_change N (already done, or not yet)', 'processing', () => refundDone({ fund_change: 'N' })],
    ['no fund_change', 'processing', () => refundDone({ fund_change: undefined })],
    ['ACQ.REASON_TRADE_REFUND_FEE_ERR', 'failed', () => fail(REFUND, 'ACQ.REASON_TRADE_REFUND_FEE_ERR')],
    ['ACQ.TRADE_NOT_EXIST', 'failed', () => fail(REFUND, 'ACQ.TRADE_NOT_EXIST')],
    ['ACQ.TRADE_STATUS_ERROR', 'failed', () => fail(REFUND, 'ACQ.TRADE_STATUS_ERROR')],
    ['ACQ.SELLER_BALANCE_NOT_ENOUGH', 'failed', () => fail(REFUND, 'ACQ.SELLER_BALANCE_NOT_ENOUGH')],
    ['ACQ.TRADE_NOT_ALLOW_REFUND', 'failed', () => fail(REFUND, 'ACQ.TRADE_NOT_ALLOW_REFUND')],
    ['ACQ.TRADE_HAS_FINISHED', 'failed', () => fail(REFUND, 'ACQ.TRADE_HAS_FINISHED')],
    ['ACQ.SYSTEM_ERROR', 'unknown', () => fail(REFUND, 'ACQ.SYSTEM_ERROR')],
    ['20000', 'unknown', () => fail(REFUND, 'isp.unknow-error', '20000')],
    ['no answer (timeout)', 'unknown', () => 'hang'],
    ['HTTP 502', 'unknown', () => ({ status: 502, body: 'Bad Gateway' })],
    ['an unsigned success', 'unknown', () => ({ body: `{"alipay_trade_refund_response":{"code":"10000","fund_change":"Y"}}` })],
    ['a success signed by another key', 'unknown', () => signed(REFUND, { code: '10000', fund_change: 'Y' }, impostor.privateKey)],
    ['a refusal signed by another key', 'unknown', () => signed(REFUND, { code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST' }, impostor.privateKey)],
    ['a success about another trade', 'unknown', () => refundDone({ out_trade_no: 'other' })],
    ['a success naming another trade_no', 'unknown', () => refundDone({ trade_no: '2026000000000000000000000099' })],
  ])('%s → %s', async (_label, kind, answer) => {
    reply = answer;
    const status = await channel.requestRefund(refund);
    expect(status.kind).toBe(kind);
  });

  it('a refusal carries sub_code and sub_msg', async () => {
    reply = () => fail(REFUND, 'ACQ.REASON_TRADE_REFUND_FEE_ERR');
    expect(await channel.requestRefund(refund)).toEqual({ kind: 'failed', code: 'ACQ.REASON_TRADE_REFUND_FEE_ERR', message: 'ACQ.REASON_TRADE_REFUND_FEE_ERR' });
  });

  it.each([0, -1, 12.5, 10_000_000_001])('an amount of %s fen is refused locally, never sent', async (amountMinor) => {
    expect(await channel.requestRefund({ ...refund, amountMinor })).toMatchObject({ kind: 'failed', code: 'invalid_amount' });
    expect(received).toHaveLength(0);
  });
});

const queried = (over: Record<string, unknown> = {}) =>
  signed(REFUND_QUERY, {
    code: '10000',
    msg: 'Success',
    trade_no: TRADE_NO,
    out_trade_no: OUT_TRADE_NO,
    out_request_no: OUT_REFUND_NO,
    refund_amount: '12.34',
    total_amount: '88.88',
    refund_status: 'REFUND_SUCCESS',
    ...over,
  });

describe('alipay.trade.fastpay.refund.query', () => {
  it('asks by out_trade_no and out_request_no; a refund with refund_amount succeeded for the amount reported', async () => {
    reply = () => queried({ refund_amount: '12.30' });
    expect(await channel.queryRefund(refund)).toEqual({
      kind: 'succeeded',
      amountMinor: 1230,
      channelRefundNo: `${TRADE_NO}-${OUT_REFUND_NO}`,
      succeededAt: NOW,
    });
    const [r] = received as [Received];
    expect(r.method).toBe(REFUND_QUERY);
    expect(r.signatureValid).toBe(true);
    expect(r.biz).toEqual({ out_trade_no: OUT_TRADE_NO, out_request_no: OUT_REFUND_NO });
  });

  it('reads gmt_refund_pay when given, and names the refund by our trade number when trade_no is left out', async () => {
    reply = () => queried({ gmt_refund_pay: '2024-05-01 11:59:00', trade_no: undefined });
    expect(await channel.queryRefund(refund)).toMatchObject({ succeededAt: new Date('2024-05-01T03:59:00Z'), channelRefundNo: `${TRADE_NO}-${OUT_REFUND_NO}` });
  });

  it.each<[string, string, () => Reply]>([
    ['refund_status absent', 'succeeded', () => queried({ refund_status: undefined })],
    ['refund_status empty', 'succeeded', () => queried({ refund_status: '' })],
    ['10000 without refund_amount', 'not_found', () => signed(REFUND_QUERY, { code: '10000', msg: 'Success', out_trade_no: OUT_TRADE_NO })],
    ['ACQ.TRADE_NOT_EXIST', 'not_found', () => fail(REFUND_QUERY, 'ACQ.TRADE_NOT_EXIST')],
    ['an undocumented refund_status', 'unknown', () => queried({ refund_status: 'REFUND_PROCESSING' })],
    ['an unreadable refund_amount', 'unknown', () => queried({ refund_amount: '12.345' })],
    ['a numeric refund_amount', 'unknown', () => queried({ refund_amount: 12.34 })],
    ['another refund', 'unknown', () => queried({ out_request_no: 'rf-other' })],
    ['another trade', 'unknown', () => queried({ out_trade_no: 'other' })],
    ['ACQ.SYSTEM_ERROR', 'unknown', () => fail(REFUND_QUERY, 'ACQ.SYSTEM_ERROR')],
    ['20000', 'unknown', () => fail(REFUND_QUERY, 'isp.unknow-error', '20000')],
    ['no answer (timeout)', 'unknown', () => 'hang'],
    ['an unsigned answer', 'unknown', () => ({ body: `{"alipay_trade_fastpay_refund_query_response":{"code":"10000","refund_amount":"12.34"}}` })],
  ])('%s → %s', async (_label, kind, answer) => {
    reply = answer;
    expect((await channel.queryRefund(refund)).kind).toBe(kind);
  });
});

// ---------------------------------------------------------------------------------------------
// Refund notices

/** A partial-refund notice (channels.md §2.4): TRADE_SUCCESS plus refund_fee, gmt_refund, out_biz_no. */
function noticeFields(over: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    notify_time: '2024-05-01 12:00:06',
    notify_type: 'trade_status_sync',
    notify_id: '2024050100222120006012345678909999',
    app_id: APP_ID,
    charset: 'utf-8',
    version: '1.0',
    sign_type: 'RSA2',
    trade_no: TRADE_NO,
    out_trade_no: OUT_TRADE_NO,
    out_biz_no: OUT_REFUND_NO,
    seller_id: SELLER_ID,
    trade_status: 'TRADE_SUCCESS',
    total_amount: '88.88',
    refund_fee: '12.34',
    gmt_payment: '2024-05-01 11:59:58',
    gmt_refund: '2024-05-01 12:00:05.123',
    ...over,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

function signedNotice(f: Record<string, string>, key = alipay.privateKey): string {
  const content = Object.keys(f)
    .filter((k) => k !== 'sign' && k !== 'sign_type' && f[k] !== '')
    .sort()
    .map((k) => `${k}=${f[k]}`)
    .join('&');
  return new URLSearchParams({ ...f, sign: sign('sha256', Buffer.from(content, 'utf8'), key).toString('base64') }).toString();
}

const notice = (rawBody: string) => channel.parseNotification({ headers: {}, rawBody });

describe('alipay refund notices', () => {
  it.each(['TRADE_SUCCESS', 'TRADE_CLOSED'])('a signed %s notice with out_biz_no is a refund notice to confirm by query', async (tradeStatus) => {
    expect(await notice(signedNotice(noticeFields({ trade_status: tradeStatus })))).toEqual({
      verified: true,
      notificationId: '2024050100222120006012345678909999',
      outTradeNo: OUT_TRADE_NO,
      refund: { outRefundNo: OUT_REFUND_NO, status: { kind: 'unknown', reason: 'alipay refund notices carry no per-refund amount; confirm by query' } },
    });
  });

  it('a notice without out_biz_no is still a payment notice', async () => {
    const result = await notice(signedNotice(noticeFields({ out_biz_no: undefined, refund_fee: undefined, gmt_refund: undefined })));
    expect(result).toMatchObject({ verified: true, status: { kind: 'paid', amountMinor: 8888 } });
    expect(result.verified && result.refund).toBeUndefined();
  });

  it.each<[string, string, () => string]>([
    ['a tampered out_biz_no', 'bad_signature', () => signedNotice(noticeFields()).replace(OUT_REFUND_NO, 'rf-forged')],
    ['a tampered refund_fee', 'bad_signature', () => signedNotice(noticeFields()).replace('refund_fee=12.34', 'refund_fee=88.88')],
    ['another key', 'bad_signature', () => signedNotice(noticeFields(), impostor.privateKey)],
    ['another seller', 'wrong_merchant', () => signedNotice(noticeFields({ seller_id: '2088000000000002' }))],
    ['another app', 'wrong_app', () => signedNotice(noticeFields({ app_id: '2021000000000002' }))],
  ])('%s is refused (%s)', async (_label, reason, body) => {
    expect(await notice(body())).toMatchObject({ verified: false, reason, outTradeNo: OUT_TRADE_NO });
  });
});

// ---------------------------------------------------------------------------------------------
// The daily bill

const HEADER =
  '支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注'.split(',');

type BillRecord = Partial<Record<string, string>>;

function detailLine(columns: string[], values: BillRecord): string {
  // Values padded with a tab and spaces, as Alipay writes them.
  return columns.map((c) => `${values[c] ?? ''}\t `).join(',');
}

const payment: BillRecord = {
  支付宝交易号: TRADE_NO,
  商户订单号: OUT_TRADE_NO,
  业务类型: '交易',
  商品名称: '测试订单',
  创建时间: '2024-05-01 11:59:50',
  完成时间: '2024-05-01 11:59:58',
  对方账户: '159****5620',
  '订单金额（元）': '88.88',
  '商家实收（元）': '88.88',
};
const refundRow: BillRecord = {
  ...payment,
  业务类型: '退款',
  完成时间: '2024-05-01 12:00:05',
  '订单金额（元）': '-12.34',
  '商家实收（元）': '-12.34',
  '退款批次号/请求号': OUT_REFUND_NO,
};

function detailFile(records: BillRecord[], columns = HEADER): string {
  return [
    '#支付宝业务明细查询',
    `#账号：[${SELLER_ID}0156]`,
    '#起始日期：[2024年05月01日 00:00:00]   终止日期：[2024年05月02日 00:00:00]',
    '#-----------------------------------------业务明细列表----------------------------------------',
    columns.join(','),
    ...records.map((r) => detailLine(columns, r)),
    '#-----------------------------------------业务明细列表结束------------------------------------',
    `#交易合计：1笔，退款合计：1笔`,
    '#导出时间：[2024年05月02日 09:00:00]',
  ].join('\r\n');
}

const DETAIL_NAME = `${SELLER_ID}_20240501_业务明细.csv`;
const SUMMARY_NAME = `${SELLER_ID}_20240501_业务明细(汇总).csv`;
const summaryFile = '#支付宝业务汇总查询\r\n门店编号,门店名称,交易订单总笔数,退款订单总笔数\r\n合计,,1,1\r\n';

function billZip(detail: string, names = { detail: DETAIL_NAME, summary: SUMMARY_NAME }): Uint8Array {
  return zipSync({ [names.detail]: iconv.encode(detail, 'gbk'), [names.summary]: iconv.encode(summaryFile, 'gbk') });
}

const expectedLines = [
  { kind: 'payment', outTradeNo: OUT_TRADE_NO, channelTradeNo: TRADE_NO, amountMinor: 8888, currency: 'CNY' },
  { kind: 'refund', outTradeNo: OUT_TRADE_NO, channelTradeNo: TRADE_NO, outRefundNo: OUT_REFUND_NO, amountMinor: 1234, currency: 'CNY', refundStatus: 'succeeded' },
];

describe('alipay bill file', () => {
  it('reads payments and refunds by header name from the GBK detail file, padding trimmed', () => {
    expect(parseAlipayBillZip(billZip(detailFile([payment, refundRow])))).toEqual({ kind: 'bill', lines: expectedLines });
  });

  it('does not rely on the column order', () => {
    const shuffled = [...HEADER].reverse();
    expect(parseAlipayBillZip(billZip(detailFile([payment, refundRow], shuffled)))).toEqual({ kind: 'bill', lines: expectedLines });
  });

  it('reads entry names written in GBK without the UTF-8 flag, as Alipay writes them', () => {
    // Same byte length as 业务明细 in GBK (8 bytes), patched in after zipping.
    const zip = billZip(detailFile([payment]), { detail: `${SELLER_ID}_20240501_ABCDEFGH.csv`, summary: `${SELLER_ID}_20240501_ABCDEFGH(IJKL).csv` });
    const patched = Buffer.from(zip)
      .toString('latin1')
      .replaceAll('ABCDEFGH', iconv.encode('业务明细', 'gbk').toString('latin1'))
      .replaceAll('IJKL', iconv.encode('汇总', 'gbk').toString('latin1'));
    expect(parseAlipayBillZip(Buffer.from(patched, 'latin1'))).toEqual({ kind: 'bill', lines: [expectedLines[0]] });
  });

  it('a day with only the header is an empty bill', () => {
    expect(parseTradeBill(detailFile([]))).toEqual({ kind: 'bill', lines: [] });
  });

  it('a quoted value may hold commas', () => {
    const text = detailFile([payment]).replace('测试订单', '"测试,订单 ""A"""');
    expect(parseTradeBill(text)).toEqual({ kind: 'bill', lines: [expectedLines[0]] });
  });

  it.each<[string, () => Uint8Array]>([
    ['not a ZIP', () => new TextEncoder().encode('<html>error</html>')],
    ['a ZIP without the detail file', () => zipSync({ [SUMMARY_NAME]: iconv.encode(summaryFile, 'gbk') })],
    ['a ZIP with two detail files', () => zipSync({ [DETAIL_NAME]: new Uint8Array(), [`x_${DETAIL_NAME}`]: new Uint8Array() })],
    ['a truncated ZIP', () => billZip(detailFile([payment])).slice(0, 200)],
  ])('%s → unknown', (_label, bytes) => {
    expect(parseAlipayBillZip(bytes()).kind).toBe('unknown');
  });

  it.each<[string, () => string]>([
    ['only comments', () => '#支付宝业务明细查询\r\n#业务明细列表结束'],
    ['no 订单金额（元） column', () => detailFile([payment], HEADER.map((c) => (c === '订单金额（元）' ? '金额' : c)))],
    ['no 退款批次号/请求号 column', () => detailFile([payment], HEADER.filter((c) => c !== '退款批次号/请求号'))],
    ['a line cut short', () => detailFile([payment, refundRow]).replace(/,[^,\r\n]*\r\n#-+业务明细列表结束/, '\r\n#业务明细列表结束')],
    ['an unreadable amount', () => detailFile([{ ...payment, '订单金额（元）': '88.888' }])],
    ['a zero payment', () => detailFile([{ ...payment, '订单金额（元）': '0.00' }])],
    ['a refund without its request number', () => detailFile([{ ...refundRow, '退款批次号/请求号': '' }])],
    ['a line without 商户订单号', () => detailFile([{ ...payment, 商户订单号: '' }])],
    ['an undocumented 业务类型', () => detailFile([{ ...payment, 业务类型: '冻结' }])],
  ])('%s → unknown, never a partial bill', (_label, text) => {
    expect(parseTradeBill(text()).kind).toBe('unknown');
  });
});

describe('alipay fetchBill', () => {
  const urlAnswer = (url: string) => signed(BILL_URL, { code: '10000', msg: 'Success', bill_download_url: url });

  it('asks for the trade bill of the day, then downloads and reads the ZIP', async () => {
    reply = () => urlAnswer(`${base}/bill/download?token=t1`);
    billReply = () => ({ body: Buffer.from(billZip(detailFile([payment, refundRow]))) });
    expect(await channel.fetchBill('2024-04-30')).toEqual({ kind: 'bill', lines: expectedLines });
    const [r] = received as [Received];
    expect(r.method).toBe(BILL_URL);
    expect(r.signatureValid).toBe(true);
    expect(r.biz).toEqual({ bill_type: 'trade', bill_date: '2024-04-30' });
    expect(downloads).toBe(1);
  });

  it('today (Beijing) is asked for; tomorrow is not ready and never asked', async () => {
    reply = () => fail(BILL_URL, 'isp.bill_not_exist');
    // 2024-05-01 23:30 UTC is already 2024-05-02 in Beijing.
    now = new Date('2024-05-01T23:30:00Z');
    expect(await channel.fetchBill('2024-05-02')).toEqual({ kind: 'bill', lines: [] });
    expect(received).toHaveLength(1);
    expect((await channel.fetchBill('2024-05-03')).kind).toBe('not_ready');
    expect(received).toHaveLength(1);
  });

  it.each(['2024-02-30', '2024-5-1', '', '2024-05-01T00:00:00'])('a date like %j is unknown, never asked', async (date) => {
    expect((await channel.fetchBill(date)).kind).toBe('unknown');
    expect(received).toHaveLength(0);
  });

  it.each<[string, string, () => Reply, () => Reply]>([
    ['isp.bill_not_exist', 'bill', () => fail(BILL_URL, 'isp.bill_not_exist'), () => 'hang'],
    ['a URL on another host', 'unknown', () => urlAnswer('http://bills.example.com/bill/download?token=t1'), () => 'hang'],
    ['a URL with another scheme', 'unknown', () => urlAnswer(`${base.replace('http:', 'https:')}/bill/download?token=t1`), () => 'hang'],
    ['no URL', 'unknown', () => signed(BILL_URL, { code: '10000', msg: 'Success' }), () => 'hang'],
    ['an unsigned URL', 'unknown', () => ({ body: `{"alipay_data_dataservice_bill_downloadurl_query_response":{"code":"10000","bill_download_url":"${base}/bill/download"}}` }), () => 'hang'],
    ['ACQ.SYSTEM_ERROR', 'unknown', () => fail(BILL_URL, 'ACQ.SYSTEM_ERROR'), () => 'hang'],
    ['a download answered 404', 'unknown', () => urlAnswer(`${base}/bill/download?token=t1`), () => ({ status: 404, body: 'expired' })],
    ['a download that never answers', 'unknown', () => urlAnswer(`${base}/bill/download?token=t1`), () => 'hang'],
    ['a download that is not a ZIP', 'unknown', () => urlAnswer(`${base}/bill/download?token=t1`), () => ({ body: 'not a zip' })],
  ])('%s → %s', async (_label, kind, answer, bill) => {
    reply = answer;
    billReply = bill;
    const result = await channel.fetchBill('2024-04-30');
    expect(result.kind).toBe(kind);
    if (kind === 'bill') expect(result).toEqual({ kind: 'bill', lines: [] });
  });

  it('never fetches a URL off the gateway origin', async () => {
    reply = () => urlAnswer(`http://localhost:${new URL(base).port}/bill/download?token=t1`);
    expect((await channel.fetchBill('2024-04-30')).kind).toBe('unknown');
    expect(downloads).toBe(0);
  });
});
