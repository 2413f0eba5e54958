// UnionPay refunds, refund notices and the daily bill (channels.md §3.4–§3.8,
// docs/refunds-and-bills.md): the decision tables row by row, the ZM_ file reader, and a signed
// round trip against a tiny node:http UnionPay (backTransReq.do, queryTrans.do, fileTransRequest.do).
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { billDayOf, billFromAnswer, type BillDay } from '../../src/channels/unionpay/bill.ts';
import type { QueryFact } from '../../src/channels/unionpay/classify.ts';
import { createUnionpayChannel } from '../../src/channels/unionpay/index.ts';
import { parseUnionpay } from '../../src/config/unionpay.ts';
import { validateRefund } from '../../src/channels/unionpay/messages.ts';
import {
  categorizeRefundAnswer,
  refundStatusFromQuery,
  refundStatusFromRequest,
  type RefundAnswerCategory,
} from '../../src/channels/unionpay/refund.ts';
import { SIGNATURE_FIELD, signFields, verifyFieldsSignature } from '../../src/channels/unionpay/sign.ts';
import { encodeForm } from '../../src/channels/unionpay/wire.ts';
import { parseFormFields } from '../../src/channels/notification.ts';
import type { BillLine, Channel, RefundRequest, RefundStatus } from '../../src/channels/types.ts';
import { UNIONPAY_CN, issue, makePki, type Issued } from '../helpers/unionpay-pki.ts';

const pki = makePki();
const bankKey = createPrivateKey(pki.signer.keyPem);
const selfMade = issue({ cn: UNIONPAY_CN });
const merchantPublicKey = new X509Certificate(pki.merchant.certPem).publicKey;

const MER_ID = '777290058110048';
const REFUND_NO = 'rf0123456789abcdefghij';
const CONSUME_QUERY_ID = '782405011203051234567';
const REFUND_QUERY_ID = '782405011405001234567';
/** 14:00:00 Beijing on 1 May 2024. */
const REFUND_TXN_TIME = '20240501140000';
const NOW = new Date('2024-05-02T04:00:00Z');
const BACK_URL = 'https://m.example.com/up/notify';
const expected = { merId: MER_ID, orderId: REFUND_NO };
/** What the refund request and the refund's notice both say about it. */
const REFUND_TXN = {
  txnType: '04',
  txnSubType: '00',
  bizType: '000201',
  accessType: '0',
  merId: MER_ID,
  orderId: REFUND_NO,
  txnTime: REFUND_TXN_TIME,
  txnAmt: '500',
  currencyCode: '156',
  origQryId: CONSUME_QUERY_ID,
};

const refund: RefundRequest = {
  outRefundNo: REFUND_NO,
  createdAt: new Date('2024-05-01T06:00:00Z'),
  trade: { outTradeNo: 'pc0123456789abcdef', createdAt: new Date('2024-05-01T04:00:00Z'), expiresAt: new Date('2024-05-01T04:15:00Z') },
  channelTradeNo: CONSUME_QUERY_ID,
  amountMinor: 500,
  totalMinor: 8888,
  currency: 'CNY',
};

/** A verified answer about our refund, with these fields over the echoes. */
const verified = (fields: Record<string, string | undefined>): QueryFact => ({
  kind: 'answer',
  fields: new Map(
    Object.entries({ merId: MER_ID, orderId: REFUND_NO, ...fields }).filter((e): e is [string, string] => e[1] !== undefined),
  ),
  verification: { ok: true },
});
const unverified: QueryFact = {
  kind: 'answer',
  fields: new Map([['respCode', '00']]),
  verification: { ok: false, reason: 'bad_signature', detail: 'mismatch' },
};
const noAnswers: Array<[string, QueryFact, RefundAnswerCategory]> = [
  ['a timeout', { kind: 'timeout', timeoutMs: 10_000 }, 'timeout'],
  ['a network error', { kind: 'network_error', detail: 'ECONNRESET' }, 'network_error'],
  ['HTTP 502', { kind: 'http_status', status: 502, body: 'bad gateway' }, 'http_status'],
  ['a body that is no message', { kind: 'unparsable', body: '' }, 'unparsable'],
  ['an unverified 00', unverified, 'unverified'],
];

describe('unionpay refund request answers (backTransReq.do)', () => {
  it.each<[string, QueryFact, RefundAnswerCategory, RefundStatus['kind']]>([
    ['respCode 00', verified({ respCode: '00' }), 'accepted', 'processing'],
    ['respCode 00 without orderId', verified({ respCode: '00', orderId: undefined }), 'wrong_trade', 'unknown'],
    ['respCode 03', verified({ respCode: '03' }), 'busy', 'unknown'],
    ['respCode 04', verified({ respCode: '04' }), 'busy', 'unknown'],
    ['respCode 05', verified({ respCode: '05' }), 'busy', 'unknown'],
    ['respCode 06', verified({ respCode: '06' }), 'busy', 'unknown'],
    ['respCode 12 (duplicate: the query decides)', verified({ respCode: '12' }), 'duplicate', 'unknown'],
    ['respCode 35 (over the refundable amount)', verified({ respCode: '35', respMsg: '原交易不存在或状态不正确' }), 'refused', 'failed'],
    ['respCode 01', verified({ respCode: '01' }), 'refused', 'failed'],
    ['respCode 11', verified({ respCode: '11' }), 'refused', 'failed'],
    ['another merchant', verified({ respCode: '00', merId: '777290058110049' }), 'wrong_trade', 'unknown'],
    ['another orderId', verified({ respCode: '35', orderId: 'rf0123456789abcdefghik' }), 'wrong_trade', 'unknown'],
    ['no respCode', verified({}), 'malformed', 'unknown'],
    ...noAnswers.map(([label, fact, category]): [string, QueryFact, RefundAnswerCategory, RefundStatus['kind']] => [label, fact, category, 'unknown']),
  ])('%s', (_label, fact, category, kind) => {
    expect(categorizeRefundAnswer(fact, expected)).toBe(category);
    expect(refundStatusFromRequest(fact, expected).kind).toBe(kind);
  });

  it('codes a refusal by its respCode and keeps UnionPay’s message', () => {
    expect(refundStatusFromRequest(verified({ respCode: '35', respMsg: '原交易不存在或状态不正确' }), expected)).toEqual({
      kind: 'failed',
      code: 'respCode:35',
      message: '原交易不存在或状态不正确',
    });
  });
});

describe('unionpay refund query answers (queryTrans.do of the refund)', () => {
  const success = { respCode: '00', origRespCode: '00', txnAmt: '500', queryId: REFUND_QUERY_ID, txnTime: REFUND_TXN_TIME, traceTime: '0501140005' };
  const succeeded: RefundStatus = {
    kind: 'succeeded',
    amountMinor: 500,
    channelRefundNo: REFUND_QUERY_ID,
    succeededAt: new Date('2024-05-01T06:00:05Z'),
  };
  it.each<[string, QueryFact, RefundStatus]>([
    ['origRespCode 00', verified(success), succeeded],
    ['origRespCode A6', verified({ ...success, origRespCode: 'A6' }), succeeded],
    ['a success without traceTime (taken now)', verified({ ...success, traceTime: undefined }), { ...succeeded, succeededAt: NOW }],
    ['origRespCode 03', verified({ respCode: '00', origRespCode: '03' }), { kind: 'processing' }],
    ['origRespCode 04', verified({ respCode: '00', origRespCode: '04' }), { kind: 'processing' }],
    ['origRespCode 05', verified({ respCode: '00', origRespCode: '05' }), { kind: 'processing' }],
    ['origRespCode 01', verified({ respCode: '00', origRespCode: '01', origRespMsg: '交易失败' }), { kind: 'failed', code: 'origRespCode:01', message: '交易失败' }],
    ['respCode 34', verified({ respCode: '34' }), { kind: 'not_found' }],
  ])('%s', (_label, fact, status) => {
    expect(refundStatusFromQuery(fact, expected, NOW)).toEqual(status);
  });

  it.each<[string, QueryFact]>([
    ['a success without txnAmt', verified({ ...success, txnAmt: undefined })],
    ['a success with txnAmt in yuan', verified({ ...success, txnAmt: '5.00' })],
    ['respCode 00 without origRespCode', verified({ respCode: '00' })],
    ['respCode 00 about another refund', verified({ ...success, orderId: 'rf0123456789abcdefghik' })],
    ['respCode 06', verified({ respCode: '06' })],
    ['respCode 11', verified({ respCode: '11' })],
    ['respCode 37', verified({ respCode: '37' })],
    ...noAnswers.map(([label, fact]): [string, QueryFact] => [label, fact]),
  ])('%s is unknown', (_label, fact) => {
    expect(refundStatusFromQuery(fact, expected, NOW).kind).toBe('unknown');
  });
});

describe('unionpay refund refused before it is sent', () => {
  it.each<[string, Partial<RefundRequest>, string]>([
    ['an outRefundNo with "_"', { outRefundNo: 'rf_0123456789' }, 'invalid_out_refund_no'],
    ['an invalid createdAt', { createdAt: new Date(Number.NaN) }, 'invalid_created_at'],
    ['a zero amount', { amountMinor: 0 }, 'invalid_amount'],
    ['a fractional amount', { amountMinor: 1.5 }, 'invalid_amount'],
    ['another currency', { currency: 'USD' as 'CNY' }, 'unsupported_currency'],
    ['no channelTradeNo', { channelTradeNo: '' }, 'invalid_channel_trade_no'],
  ])('%s', (_label, over, code) => {
    expect(validateRefund({ ...refund, ...over })).toMatchObject({ kind: 'failed', code });
  });

  it('lets a good refund through', () => {
    expect(validateRefund(refund)).toBeUndefined();
  });
});

// ---- messages signed as UnionPay signs them ----------------------------------------------------

interface Signer {
  key: KeyObject;
  cert: Issued;
}
const bank: Signer = { key: bankKey, cert: pki.signer };
const stranger: Signer = { key: createPrivateKey(selfMade.keyPem), cert: selfMade };

/** signMethod 01, the signing certificate (PEM with \r\n) in the message, the signature over both. */
async function signAs(signer: Signer, fields: Record<string, string | undefined>): Promise<Map<string, string>> {
  const message = new Map(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined));
  message.set('signMethod', '01');
  message.set('signPubKeyCert', signer.cert.certPem.replace(/\r?\n/g, '\r\n'));
  message.set(SIGNATURE_FIELD, await signFields(signer.key, message));
  return message;
}

let clock = NOW;
let channel: Channel;

function refundNotice(over: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    version: '5.1.0',
    encoding: 'UTF-8',
    ...REFUND_TXN,
    queryId: REFUND_QUERY_ID,
    respCode: '00',
    respMsg: 'success',
    traceNo: '654321',
    traceTime: '0501140005',
    settleDate: '0501',
    ...over,
  };
}

const noticeBody = async (over: Record<string, string | undefined> = {}, signer = bank) => encodeForm(await signAs(signer, refundNotice(over)));
const notification = (rawBody: string) => channel.parseNotification({ headers: {}, rawBody });

describe('unionpay refund notification (txnType 04)', () => {
  const id = `${REFUND_NO}:${REFUND_TXN_TIME}:04:${REFUND_QUERY_ID}:00`;

  it('accepts a signed success as the refund’s, naming no trade (the notice has only origQryId)', async () => {
    expect(await notification(await noticeBody())).toEqual({
      verified: true,
      notificationId: id,
      outTradeNo: '',
      refund: {
        outRefundNo: REFUND_NO,
        status: { kind: 'succeeded', amountMinor: 500, channelRefundNo: REFUND_QUERY_ID, succeededAt: new Date('2024-05-01T06:00:05Z') },
      },
    });
  });

  it('reads A6 as succeeded and any other respCode as failed', async () => {
    expect(await notification(await noticeBody({ respCode: 'A6' }))).toMatchObject({ refund: { status: { kind: 'succeeded', amountMinor: 500 } } });
    expect(await notification(await noticeBody({ respCode: '01', respMsg: '交易失败' }))).toMatchObject({
      verified: true,
      notificationId: `${REFUND_NO}:${REFUND_TXN_TIME}:04:${REFUND_QUERY_ID}:01`,
      refund: { outRefundNo: REFUND_NO, status: { kind: 'failed', code: 'respCode:01', message: '交易失败' } },
    });
  });

  it.each<[string, () => Promise<string>, Record<string, unknown>]>([
    ['a tampered amount', async () => (await noticeBody()).replace('txnAmt=500', 'txnAmt=8888'), { reason: 'bad_signature', notificationId: id }],
    ['a self-signed certificate', () => noticeBody({}, stranger), { reason: 'bad_certificate', notificationId: id }],
    ['another merchant', () => noticeBody({ merId: '777290058110049' }), { reason: 'wrong_merchant' }],
    ['a success without txnAmt', () => noticeBody({ txnAmt: undefined }), { reason: 'malformed' }],
    ['an orderId UnionPay could not have sent', () => noticeBody({ orderId: 'rf-1' }), { reason: 'malformed' }],
    ['an undo notice (31)', () => noticeBody({ txnType: '31' }), { reason: 'unsupported_transaction' }],
  ])('refuses %s, naming no trade', async (_label, body, refusal) => {
    const result = await notification(await body());
    expect(result).toMatchObject({ verified: false, ...refusal });
    // A refund's orderId is no out_trade_no: a refusal must not send the service to query it as one.
    if (refusal.reason !== 'unsupported_transaction') expect(result.outTradeNo).toBeUndefined();
  });
});

// ---- the ZM_ file ------------------------------------------------------------------------------

const DAY: BillDay = { merId: MER_ID, settleDate: '0501', fileName: `INN24050188ZM_${MER_ID}` };

interface ZmFields {
  txnCode: string;
  queryId: string;
  orderId: string;
  txnTime?: string;
  txnAmt: string;
  currencyCode?: string;
  origQryId?: string;
  respCode?: string;
}

/** One line in the documented layout: each field left-aligned and space-padded, one space between. */
function zmLine(f: ZmFields): string {
  const cells: Array<[string, number]> = [
    [f.txnCode, 3],
    [f.queryId, 21],
    [f.orderId, 40],
    [f.txnTime ?? '20240501120000', 14],
    [f.txnAmt.padStart(12, '0'), 12],
    [f.currencyCode ?? '156', 3],
    [f.origQryId ?? '', 21],
    [f.respCode ?? '00', 2],
  ];
  return cells.map(([value, width]) => value.padEnd(width, ' ')).join(' ');
}

const payment = (orderId: string, queryId: string, fen: string): ZmFields => ({ txnCode: 'S22', queryId, orderId, txnAmt: fen });
const refunded = (orderId: string, queryId: string, origQryId: string, fen: string): ZmFields => ({
  txnCode: 'S30',
  queryId,
  orderId,
  txnAmt: fen,
  origQryId,
  txnTime: REFUND_TXN_TIME,
});
const zmText = (rows: string[]) => rows.map((row) => `${row}\r\n`).join('');

/** fileContent as UnionPay sends it: base64 of the zlib-deflated bytes of a ZIP. */
function fileContentOf(files: Record<string, string | Uint8Array>): string {
  const entries = Object.fromEntries(Object.entries(files).map(([name, body]) => [name, typeof body === 'string' ? Buffer.from(body, 'latin1') : body]));
  return deflateSync(zipSync(entries)).toString('base64');
}

const fileAnswer = (over: Record<string, string | undefined>): QueryFact => verified({ orderId: undefined, respCode: '00', settleDate: '0501', ...over });
const zmAnswer = (rows: string[], extraFiles: Record<string, string> = {}) =>
  fileAnswer({ fileContent: fileContentOf({ ...extraFiles, [DAY.fileName]: zmText(rows) }), fileName: 'INN24050188ZM_.zip' });

const dayLines: BillLine[] = [
  { kind: 'payment', outTradeNo: 'pc0123456789abcdef', channelTradeNo: CONSUME_QUERY_ID, amountMinor: 8888, currency: 'CNY' },
  {
    kind: 'refund',
    outTradeNo: '',
    channelTradeNo: CONSUME_QUERY_ID,
    outRefundNo: REFUND_NO,
    amountMinor: 500,
    currency: 'CNY',
    refundStatus: 'succeeded',
  },
];
const dayRows = [
  zmLine(payment('pc0123456789abcdef', CONSUME_QUERY_ID, '8888')),
  zmLine(refunded(REFUND_NO, REFUND_QUERY_ID, CONSUME_QUERY_ID, '500')),
];

describe('unionpay bill answer and ZM_ file', () => {
  it('reads consumes (S22) and refunds (S30), ignoring the ZME_ file beside them', () => {
    expect(billFromAnswer(zmAnswer(dayRows, { [`INN24050188ZME_${MER_ID}`]: 'summary' }), DAY)).toEqual({ kind: 'bill', lines: dayLines });
  });

  it('takes the lines in any order, the ZM_ file in a folder, and lines ending in \\n alone', () => {
    const content = fileContentOf({ [`bills/${DAY.fileName}`]: [...dayRows].reverse().join('\n') });
    expect(billFromAnswer(fileAnswer({ fileContent: content }), DAY)).toEqual({ kind: 'bill', lines: [...dayLines].reverse() });
  });

  it('passes a currency other than 156 on, for the reconciliation to refuse', () => {
    const bill = billFromAnswer(zmAnswer([zmLine({ ...payment('pc0123456789abcdef', CONSUME_QUERY_ID, '100'), currencyCode: '840' })]), DAY);
    expect(bill).toMatchObject({ kind: 'bill', lines: [{ currency: 'currencyCode:840', amountMinor: 100 }] });
  });

  it('reads respCode 98 and an empty ZM_ file as an empty bill', () => {
    expect(billFromAnswer(fileAnswer({ respCode: '98' }), DAY)).toEqual({ kind: 'bill', lines: [] });
    expect(billFromAnswer(zmAnswer([]), DAY)).toEqual({ kind: 'bill', lines: [] });
  });

  const line = dayRows[0]!;
  it.each<[string, QueryFact, RegExp]>([
    ['a line one character short', zmAnswer([line.slice(0, -1)]), /ZM line 1: 122 characters/],
    ['a column shifted by one', zmAnswer([`${line.slice(0, 4)} ${line.slice(4, -1)}`]), /ZM line 1: (no space|queryId is not left-aligned)/],
    ['a txnCode other than S22/S30', zmAnswer([dayRows[1]!, zmLine({ ...payment('pc0123456789abcdef', CONSUME_QUERY_ID, '1'), txnCode: 'S31' })]), /ZM line 2: txnCode S31/],
    ['a failed transaction', zmAnswer([zmLine({ ...payment('pc0123456789abcdef', CONSUME_QUERY_ID, '1'), respCode: '01' })]), /respCode 01/],
    ['an amount with a decimal point', zmAnswer([zmLine(payment('pc0123456789abcdef', CONSUME_QUERY_ID, '88.88'))]), /txnAmt/],
    ['an amount of zero', zmAnswer([zmLine(payment('pc0123456789abcdef', CONSUME_QUERY_ID, '0'))]), /txnAmt/],
    ['a refund without origQryId', zmAnswer([zmLine({ ...refunded(REFUND_NO, REFUND_QUERY_ID, '', '500') })]), /without origQryId/],
    ['a consume with an origQryId', zmAnswer([zmLine({ ...payment('pc0123456789abcdef', CONSUME_QUERY_ID, '1'), origQryId: '1' })]), /consume with an origQryId/],
    ['an impossible txnTime', zmAnswer([zmLine({ ...payment('pc0123456789abcdef', CONSUME_QUERY_ID, '1'), txnTime: '20240231120000' })]), /txnTime/],
    ['a non-ASCII line', zmAnswer([`${line.slice(0, -3)}\u00e9${line.slice(-2)}`]), /printable ASCII/],
    ['fileContent that is not deflated', fileAnswer({ fileContent: Buffer.from('PK not deflated').toString('base64') }), /zlib-deflated/],
    ['deflated bytes that are not a ZIP', fileAnswer({ fileContent: deflateSync(Buffer.from('plain text')).toString('base64') }), /not a ZIP/],
    ['a ZIP without a ZM_ file', fileAnswer({ fileContent: fileContentOf({ [`INN24050188ZME_${MER_ID}`]: 'x' }) }), /0 ZM_ files/],
    ['a ZIP with two ZM_ files', zmAnswer(dayRows, { [`INN23050188ZM_${MER_ID}`]: '' }), /2 ZM_ files/],
    ['the file of the same day a year before', fileAnswer({ fileContent: fileContentOf({ [`INN23050188ZM_${MER_ID}`]: zmText(dayRows) }) }), /not INN24050188ZM_/],
    ['no fileContent', fileAnswer({}), /malformed/],
    ['another settleDate', fileAnswer({ respCode: '98', settleDate: '0430' }), /wrong_trade/],
    ['another merchant', fileAnswer({ respCode: '98', merId: '777290058110049' }), /wrong_trade/],
    ['a refusal (respCode 31)', fileAnswer({ respCode: '31' }), /file_refused/],
    ['an unverified answer', unverified, /unverified/],
    ['a timeout', { kind: 'timeout', timeoutMs: 10_000 }, /timeout/],
  ])('is unknown for %s, never a partial bill', (_label, fact, reason) => {
    const bill = billFromAnswer(fact, DAY);
    expect(bill.kind).toBe('unknown');
    if (bill.kind === 'unknown') expect(bill.reason).toMatch(reason);
  });
});

describe('unionpay bill day (settleDate is MMDD, without a year)', () => {
  it.each<[string, string, Date, ReturnType<typeof billDayOf>]>([
    ['yesterday', '2024-05-01', NOW, DAY],
    ['today (Beijing)', '2024-05-02', new Date('2024-05-01T16:00:00Z'), { ...DAY, settleDate: '0502', fileName: `INN24050288ZM_${MER_ID}` }],
    ['last year’s 31 December, in January', '2024-12-31', new Date('2025-01-05T00:00:00Z'), { ...DAY, settleDate: '1231', fileName: `INN24123188ZM_${MER_ID}` }],
    ['tomorrow (Beijing) is not ready', '2024-05-02', new Date('2024-05-01T15:59:59Z'), { kind: 'not_ready', reason: expect.stringMatching(/after today \(2024-05-01/) }],
    ['a day a year back', '2023-05-02', NOW, { kind: 'unknown', reason: expect.stringMatching(/more than a year back/) }],
    ['an impossible date', '2024-02-30', NOW, { kind: 'unknown', reason: expect.stringMatching(/not a yyyy-MM-dd date/) }],
    ['another format', '20240501', NOW, { kind: 'unknown', reason: expect.stringMatching(/not a yyyy-MM-dd date/) }],
  ])('%s', (_label, date, now, result) => {
    expect(billDayOf(date, now, MER_ID)).toEqual(result);
  });
});

// ---- a signed round trip through the channel ----------------------------------------------------

type Answer = { status?: number; body: string };
const routes = new Map<string, (fields: Map<string, string>) => Promise<Answer>>();
const received: Array<{ path: string; fields: Map<string, string> }> = [];
let server: http.Server;

/** A synchronous answer: signed, k=v joined raw, nothing encoded. */
const signedAnswer = async (fields: Record<string, string | undefined>, signer = bank): Promise<Answer> => ({
  body: [...(await signAs(signer, fields))].map(([k, v]) => `${k}=${v}`).join('&'),
});

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const fields = parseFormFields(Buffer.concat(chunks).toString('utf8')) ?? new Map<string, string>();
      const path = req.url ?? '';
      received.push({ path, fields });
      const route = routes.get(path);
      const answer = route ? await route(fields) : { status: 404, body: 'no such path' };
      res.writeHead(answer.status ?? 200, { 'Content-Type': 'text/plain;charset=UTF-8' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/up`;
  // Read as the config file is, so fileUrl is taken the way start-up takes it.
  const config = parseUnionpay({
    merId: MER_ID,
    gatewayUrl,
    fileUrl: `${gatewayUrl}/files/`,
    privateKey: pki.merchant.keyPem,
    signCert: pki.merchant.certPem,
    rootCert: pki.root.certPem,
    middleCert: pki.middle.certPem,
    backUrl: BACK_URL,
    frontUrl: 'https://m.example.com/up/return',
  });
  channel = createUnionpayChannel(config, { now: () => clock });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received.length = 0;
  routes.clear();
  clock = NOW;
});

/** The request's signature checks with the merchant's certificate, and these are its fields. */
function expectSignedRequest(path: string, fields: Record<string, string>) {
  expect(received.map((r) => r.path)).toEqual([path]);
  const request = received[0]!.fields;
  expect(verifyFieldsSignature(merchantPublicKey, request)).toBe(true);
  expect(Object.fromEntries(request)).toMatchObject(fields);
}

describe('unionpay refunds and bill against a fake UnionPay', () => {
  it('sends the refund from the RefundRequest alone, so a resend is the same message', async () => {
    routes.set('/up/gateway/api/backTransReq.do', (f) => signedAnswer({ merId: MER_ID, orderId: f.get('orderId'), txnType: '04', respCode: '00', respMsg: 'accepted' }));
    expect(await channel.requestRefund(refund)).toEqual({ kind: 'processing' });
    expectSignedRequest('/up/gateway/api/backTransReq.do', { ...REFUND_TXN, channelType: '07', backUrl: BACK_URL });
    clock = new Date(NOW.getTime() + 3_600_000);
    await channel.requestRefund(refund);
    expect(received[1]!.fields).toEqual(received[0]!.fields);
  });

  it('trusts no answer signed outside UnionPay’s chain, even an acceptance', async () => {
    routes.set('/up/gateway/api/backTransReq.do', (f) => signedAnswer({ merId: MER_ID, orderId: f.get('orderId'), respCode: '35' }, stranger));
    expect(await channel.requestRefund(refund)).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/unverified/) });
  });

  it('refuses locally what UnionPay could not take, without a call', async () => {
    expect(await channel.requestRefund({ ...refund, amountMinor: -1 })).toMatchObject({ kind: 'failed', code: 'invalid_amount' });
    expect(received).toEqual([]);
  });

  it('queries the refund by its own orderId and txnTime', async () => {
    routes.set('/up/gateway/api/queryTrans.do', (f) =>
      signedAnswer({ merId: MER_ID, orderId: f.get('orderId'), respCode: '00', origRespCode: '00', txnAmt: '500', queryId: REFUND_QUERY_ID, txnTime: f.get('txnTime') }),
    );
    expect(await channel.queryRefund(refund)).toEqual({ kind: 'succeeded', amountMinor: 500, channelRefundNo: REFUND_QUERY_ID, succeededAt: NOW });
    expectSignedRequest('/up/gateway/api/queryTrans.do', { txnType: '00', orderId: REFUND_NO, txnTime: REFUND_TXN_TIME, merId: MER_ID });
  });

  it('fetches, verifies and reads the day’s file from fileUrl', async () => {
    const content = fileContentOf({ [DAY.fileName]: zmText(dayRows) });
    routes.set('/up/files/gateway/api/fileTransRequest.do', (f) =>
      signedAnswer({ merId: MER_ID, settleDate: f.get('settleDate'), txnType: '76', respCode: '00', fileName: 'INN24050188ZM.zip', fileContent: content }),
    );
    expect(await channel.fetchBill('2024-05-01')).toEqual({ kind: 'bill', lines: dayLines });
    expectSignedRequest('/up/files/gateway/api/fileTransRequest.do', {
      txnType: '76',
      txnSubType: '01',
      bizType: '000000',
      accessType: '0',
      merId: MER_ID,
      settleDate: '0501',
      txnTime: '20240502120000',
      fileType: '00',
    });
  });

  it('reads a bill signed outside UnionPay’s chain as unknown, and a future day as not ready without asking', async () => {
    const content = fileContentOf({ [DAY.fileName]: zmText(dayRows) });
    routes.set('/up/files/gateway/api/fileTransRequest.do', () => signedAnswer({ merId: MER_ID, respCode: '00', fileContent: content }, stranger));
    expect(await channel.fetchBill('2024-05-01')).toMatchObject({ kind: 'unknown' });
    received.length = 0;
    expect(await channel.fetchBill('2024-05-03')).toMatchObject({ kind: 'not_ready' });
    expect(received).toEqual([]);
  });
});
