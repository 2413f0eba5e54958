// Drives the UnionPay adapter end to end: the consume form it builds, and its queries against a
// tiny node:http server that answers queryTrans.do as UnionPay does (un-encoded, signed k=v with
// signPubKeyCert), plus backUrl notifications.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UnionpayConfig } from '../../src/config/unionpay.ts';
import { createUnionpayChannel } from '../../src/channels/unionpay/index.ts';
import { SIGNATURE_FIELD, signFields, signingString, verifyFieldsSignature } from '../../src/channels/unionpay/sign.ts';
import { parseFormFields } from '../../src/channels/notification.ts';
import { encodeForm } from '../../src/channels/unionpay/wire.ts';
import type { Channel, CreatePaymentInput, TradeRef } from '../../src/channels/types.ts';
import { UNIONPAY_CN, issue, makePki, type Issued } from '../helpers/unionpay-pki.ts';

const pki = makePki();
/** Serial 0x1036412484 = certId 69629715588, as in channels.md §3.2's example. */
const merchant = issue({ cn: '041@Z20240101@Test Merchant@00000001', serial: '1036412484' });
const signerKey = createPrivateKey(pki.signer.keyPem);
const merchantPublicKey = new X509Certificate(merchant.certPem).publicKey;

const MER_ID = '777290058110048';
const ORDER_ID = 'pc0123456789abcdefghijklmnopqrst';
/** 12:00:00 and 12:15:00 Beijing time. */
const ref: TradeRef = {
  outTradeNo: ORDER_ID,
  createdAt: new Date('2024-05-01T04:00:00Z'),
  expiresAt: new Date('2024-05-01T04:15:00Z'),
};
const GRACE_MS = 60_000;
const BEFORE_FINAL = new Date('2024-05-01T04:10:00Z');
const FINAL_MOMENT = new Date(ref.expiresAt.getTime() + GRACE_MS);
const AFTER_FINAL = new Date(FINAL_MOMENT.getTime() + 1);
const TIMEOUT_MS = 400;

let clock = BEFORE_FINAL;

// ---- the fake UnionPay -------------------------------------------------------------------------

type Answer = { status?: number; body: string } | 'hang';
let respond: (request: Map<string, string>) => Answer = () => ({ status: 500, body: 'not scripted' });
const received: Array<{ path: string; contentType: string | undefined; fields: Map<string, string> }> = [];
let server: http.Server;
let baseUrl = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fields = parseFormFields(Buffer.concat(chunks).toString('utf8')) ?? new Map<string, string>();
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'], fields });
      const answer = req.url === '/up/gateway/api/queryTrans.do' ? respond(fields) : { status: 404, body: 'no such path' };
      if (answer === 'hang') return;
      res.writeHead(answer.status ?? 200, { 'Content-Type': 'text/plain;charset=UTF-8' });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A path prefix, as a sandbox mounts it: the endpoints hang below it.
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/up/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received.length = 0;
  clock = BEFORE_FINAL;
});

function configFor(gatewayUrl: string): UnionpayConfig {
  return {
    merId: MER_ID,
    gatewayUrl,
    fileUrl: gatewayUrl,
    privateKey: merchant.keyPem,
    signCert: merchant.certPem,
    rootCert: pki.root.certPem,
    middleCert: pki.middle.certPem,
    backUrl: 'https://m.example.com/up/notify',
    frontUrl: 'https://m.example.com/up/return',
    validateCnName: true,
    channelType: '07',
    requestTimeoutMs: TIMEOUT_MS,
    expiryGraceMs: GRACE_MS,
  };
}

let channel: Channel;
beforeAll(() => {
  channel = createUnionpayChannel(configFor(baseUrl), { now: () => clock });
});

interface SignOptions {
  key?: KeyObject;
  cert?: Issued;
}

/** Signs as UnionPay does: signMethod 01, its certificate (PEM with \r\n) in the message. */
async function signedFields(fields: Record<string, string>, opts: SignOptions = {}): Promise<Map<string, string>> {
  const message = new Map(Object.entries(fields));
  message.set('signMethod', '01');
  message.set('signPubKeyCert', (opts.cert ?? pki.signer).certPem.replace(/\r?\n/g, '\r\n'));
  message.set(SIGNATURE_FIELD, await signFields(opts.key ?? signerKey, message));
  return message;
}

/** A synchronous answer: k=v joined raw, unsorted, nothing encoded. */
const unencoded = (fields: Map<string, string>) => [...fields].map(([k, v]) => `${k}=${v}`).join('&');

function queryAnswer(over: Record<string, string | undefined>): Record<string, string> {
  const fields: Record<string, string | undefined> = {
    version: '5.1.0',
    encoding: 'UTF-8',
    bizType: '000201',
    txnType: '00',
    txnSubType: '00',
    accessType: '0',
    merId: MER_ID,
    orderId: ORDER_ID,
    txnTime: '20240501120000',
    respCode: '00',
    respMsg: '成功[0000000]',
    origRespCode: '00',
    origRespMsg: '成功[0000000]',
    queryId: '782405011203051234567',
    traceNo: '123456',
    traceTime: '0501120305',
    txnAmt: '8888',
    currencyCode: '156',
    settleAmt: '8888',
    settleCurrencyCode: '156',
    settleDate: '0501',
    // Nested values with & and =: the answer parser must keep them whole for the signature to check.
    reqReserved: '{order=1&note=a=b}',
    accSplitData: '[{accSplitMerId=1&accSplitAmt=1}]',
    ...over,
  };
  return Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Scripts the fake to answer every query with these fields, signed. */
async function answerWith(over: Record<string, string | undefined>, opts: SignOptions = {}) {
  const body = unencoded(await signedFields(queryAnswer(over), opts));
  respond = () => ({ body });
}

// ---- createPayment -----------------------------------------------------------------------------

const input: CreatePaymentInput = {
  outTradeNo: 'ORD20240101001',
  amountMinor: 8888,
  currency: 'CNY',
  description: '商品',
  createdAt: new Date('2024-01-01T04:00:00Z'),
  expiresAt: new Date('2024-01-01T04:15:00Z'),
  method: 'gateway',
};

describe('unionpay createPayment (front consume form)', () => {
  it('signs the documented consume fields, sorted as in the brief example, with no HTTP call', async () => {
    const result = await channel.createPayment(input);
    expect(result.kind).toBe('created');
    if (result.kind !== 'created' || result.action.type !== 'form_post') throw new Error('expected a form_post');
    expect(result.action.url).toBe(`${baseUrl.replace(/\/$/, '')}/gateway/api/frontTransReq.do`);
    const fields = new Map(Object.entries(result.action.fields));
    expect(signingString(fields)).toBe(
      'accessType=0&backUrl=https://m.example.com/up/notify&bizType=000201&certId=69629715588&channelType=07&currencyCode=156&encoding=UTF-8&frontUrl=https://m.example.com/up/return&merId=777290058110048&orderId=ORD20240101001&payTimeout=20240101121500&signMethod=01&txnAmt=8888&txnSubType=01&txnTime=20240101120000&txnType=01&version=5.1.0',
    );
    expect(verifyFieldsSignature(merchantPublicKey, fields)).toBe(true);
    expect(received).toHaveLength(0);
  });

  it("puts the payment's own return URL in frontUrl, signed", async () => {
    const result = await channel.createPayment({ ...input, returnUrl: 'https://shop.example.com/orders/42' });
    if (result.kind !== 'created' || result.action.type !== 'form_post') throw new Error('expected a form_post');
    const fields = new Map(Object.entries(result.action.fields));
    expect(fields.get('frontUrl')).toBe('https://shop.example.com/orders/42');
    expect(verifyFieldsSignature(merchantPublicKey, fields)).toBe(true);
  });

  it('gives the identical form on a retry of the same attempt', async () => {
    expect(await channel.createPayment({ ...input })).toEqual(await channel.createPayment(input));
  });

  it.each<[string, Partial<CreatePaymentInput>, string]>([
    ['another method', { method: 'qr' }, 'unsupported_method'],
    ['a zero amount', { amountMinor: 0 }, 'invalid_amount'],
    ['a fractional amount', { amountMinor: 88.5 }, 'invalid_amount'],
    ['another currency', { currency: 'USD' as 'CNY' }, 'unsupported_currency'],
    ['an orderId with _', { outTradeNo: 'ORD_20240101001' }, 'invalid_out_trade_no'],
    ['an orderId of 7 characters', { outTradeNo: 'ORD2024' }, 'invalid_out_trade_no'],
    ['an orderId of 41 characters', { outTradeNo: 'a'.repeat(41) }, 'invalid_out_trade_no'],
    ['an invalid createdAt', { createdAt: new Date(Number.NaN) }, 'invalid_created_at'],
    ['an expiry equal to createdAt', { expiresAt: input.createdAt }, 'invalid_expiry'],
  ])('rejects %s', async (_label, over, code) => {
    expect(await channel.createPayment({ ...input, ...over })).toMatchObject({ kind: 'rejected', code });
  });

  it('accepts orderIds of 8 and 40 characters', async () => {
    for (const outTradeNo of ['ORD20241', 'A'.repeat(40)]) {
      expect((await channel.createPayment({ ...input, outTradeNo })).kind).toBe('created');
    }
  });
});

// ---- queryPayment ------------------------------------------------------------------------------

describe('unionpay queryPayment against a queryTrans.do server', () => {
  it('sends a query for orderId + original txnTime, form-encoded and signed with the merchant key', async () => {
    await answerWith({});
    await channel.queryPayment(ref);
    expect(received).toHaveLength(1);
    const { path, contentType, fields } = received[0]!;
    expect(path).toBe('/up/gateway/api/queryTrans.do');
    expect(contentType).toBe('application/x-www-form-urlencoded;charset=UTF-8');
    expect(Object.fromEntries([...fields].filter(([k]) => k !== SIGNATURE_FIELD))).toEqual({
      version: '5.1.0',
      encoding: 'UTF-8',
      signMethod: '01',
      txnType: '00',
      txnSubType: '00',
      bizType: '000201',
      accessType: '0',
      merId: MER_ID,
      orderId: ORDER_ID,
      txnTime: '20240501120000',
      certId: '69629715588',
    });
    expect(verifyFieldsSignature(merchantPublicKey, fields)).toBe(true);
  });

  it('reads a success: queryId, integer fen, CNY, paidAt from traceTime in txnTime’s year', async () => {
    await answerWith({});
    expect(await channel.queryPayment(ref)).toEqual({
      kind: 'paid',
      channelTradeNo: '782405011203051234567',
      amountMinor: 8888,
      currency: 'CNY',
      paidAt: new Date('2024-05-01T04:03:05Z'),
    });
  });

  const BEFORE = 'before the final moment';
  const AFTER = 'after the final moment';
  it.each<[string, string, Record<string, string | undefined>, string]>([
    [BEFORE, 'origRespCode 00', { origRespCode: '00' }, 'paid'],
    [BEFORE, 'origRespCode A6 (defective success)', { origRespCode: 'A6' }, 'paid'],
    [BEFORE, 'origRespCode 03 (processing)', { origRespCode: '03' }, 'not_paid'],
    [BEFORE, 'origRespCode 04 (processing)', { origRespCode: '04' }, 'not_paid'],
    [BEFORE, 'origRespCode 05 (processing)', { origRespCode: '05' }, 'not_paid'],
    [BEFORE, 'origRespCode 01 (failed)', { origRespCode: '01' }, 'not_paid'],
    [BEFORE, 'origRespCode 30 (failed)', { origRespCode: '30' }, 'not_paid'],
    [BEFORE, 'respCode 34 (no such trade)', { respCode: '34', origRespCode: undefined }, 'not_found'],
    [AFTER, 'origRespCode 00', { origRespCode: '00' }, 'paid'],
    [AFTER, 'origRespCode A6', { origRespCode: 'A6' }, 'paid'],
    [AFTER, 'origRespCode 05 (processing)', { origRespCode: '05' }, 'closed'],
    [AFTER, 'origRespCode 01 (failed)', { origRespCode: '01' }, 'closed'],
    [AFTER, 'respCode 34 (no such trade)', { respCode: '34', origRespCode: undefined }, 'closed'],
    ...['03', '04', '05', '06', '10', '11', '13', '01', '37'].flatMap((code): Array<[string, string, Record<string, string | undefined>, string]> => [
      [BEFORE, `respCode ${code}`, { respCode: code, origRespCode: undefined }, 'unknown'],
      [AFTER, `respCode ${code}`, { respCode: code, origRespCode: undefined }, 'unknown'],
    ]),
  ])('%s: %s → %s', async (when, _label, over, kind) => {
    clock = when === BEFORE ? BEFORE_FINAL : AFTER_FINAL;
    await answerWith(over);
    expect((await channel.queryPayment(ref)).kind).toBe(kind);
  });

  it('the final moment is strictly after expiresAt + expiryGraceMs', async () => {
    await answerWith({ respCode: '34', origRespCode: undefined });
    clock = FINAL_MOMENT;
    expect((await channel.queryPayment(ref)).kind).toBe('not_found');
    clock = AFTER_FINAL;
    expect((await channel.queryPayment(ref)).kind).toBe('closed');
  });

  it('a failed answer need not echo the order (respCode 34 without orderId)', async () => {
    await answerWith({ respCode: '34', origRespCode: undefined, orderId: undefined, merId: undefined });
    expect((await channel.queryPayment(ref)).kind).toBe('not_found');
  });

  it.each<[string, Record<string, string | undefined>, RegExp]>([
    ['another merchant', { merId: '777290058110049' }, /wrong_trade/],
    ['another order', { orderId: 'pc0123456789abcdefghijklmnopqrsu' }, /wrong_trade/],
    ['a success without orderId', { orderId: undefined }, /wrong_trade/],
    ['respCode 00 without origRespCode', { origRespCode: undefined }, /malformed/],
    ['no respCode', { respCode: undefined }, /malformed/],
    ['a success without queryId', { queryId: undefined }, /queryId/],
    ['a success with a decimal txnAmt', { txnAmt: '88.88' }, /txnAmt/],
    ['a success with a negative txnAmt', { txnAmt: '-8888' }, /txnAmt/],
  ])('is unknown for %s', async (_label, over, reason) => {
    await answerWith(over);
    const status = await channel.queryPayment(ref);
    expect(status.kind).toBe('unknown');
    if (status.kind === 'unknown') expect(status.reason).toMatch(reason);
  });

  it('names a currency other than 156, so the amount check refuses it; absent means CNY', async () => {
    await answerWith({ currencyCode: '840' });
    expect(await channel.queryPayment(ref)).toMatchObject({ kind: 'paid', currency: 'currencyCode:840' });
    await answerWith({ currencyCode: undefined });
    expect(await channel.queryPayment(ref)).toMatchObject({ kind: 'paid', currency: 'CNY' });
  });

  it('takes paidAt from the time the query was sent when traceTime is missing', async () => {
    await answerWith({ traceTime: undefined });
    expect(await channel.queryPayment(ref)).toMatchObject({ kind: 'paid', paidAt: BEFORE_FINAL });
  });

  describe('never trusts an unverified answer, even one that says paid', () => {
    const selfMade = issue({ cn: UNIONPAY_CN });
    const otherRoot = issue({ cn: 'Test UnionPay Root', serial: '01', ca: true });
    const otherMiddle = issue({ cn: 'Test UnionPay Middle', serial: '02', ca: true, issuer: otherRoot });
    const lookAlike = issue({ cn: UNIONPAY_CN, issuer: otherMiddle });
    const wrongCn = issue({ cn: '041@Z124@Another Company@00000001', issuer: pki.middle });
    const expired = issue({ cn: UNIONPAY_CN, issuer: pki.middle, notAfter: new Date('2024-05-01T04:00:00Z') });

    it.each<[string, SignOptions, RegExp]>([
      ['a self-signed certificate', { cert: selfMade, key: createPrivateKey(selfMade.keyPem) }, /bad_certificate\(not_issued_by_middle\)/],
      ['a look-alike middle', { cert: lookAlike, key: createPrivateKey(lookAlike.keyPem) }, /bad_certificate\(not_issued_by_middle\)/],
      ['another CN', { cert: wrongCn, key: createPrivateKey(wrongCn.keyPem) }, /bad_certificate\(wrong_cn\)/],
      ['an expired certificate', { cert: expired, key: createPrivateKey(expired.keyPem) }, /bad_certificate\(expired\)/],
      ['UnionPay certificate but another key', { key: createPrivateKey(merchant.keyPem) }, /bad_signature\(mismatch\)/],
    ])('%s', async (_label, opts, reason) => {
      await answerWith({}, opts);
      const status = await channel.queryPayment(ref);
      expect(status).toMatchObject({ kind: 'unknown' });
      if (status.kind === 'unknown') {
        expect(status.reason).toMatch(reason);
        expect(status.reason).not.toContain('BEGIN CERTIFICATE');
      }
    });

    it('a tampered field (34 turned into a success)', async () => {
      const body = unencoded(await signedFields(queryAnswer({ respCode: '34', origRespCode: undefined })));
      respond = () => ({ body: body.replace('respCode=34', 'respCode=00&origRespCode=00') });
      expect(await channel.queryPayment(ref)).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/bad_signature/) });
    });

    it('even after the final moment (a forged 34 must not close the trade)', async () => {
      clock = AFTER_FINAL;
      await answerWith({ respCode: '34', origRespCode: undefined }, { cert: selfMade, key: createPrivateKey(selfMade.keyPem) });
      expect((await channel.queryPayment(ref)).kind).toBe('unknown');
    });
  });

  it.each<[string, Date, Answer, RegExp]>([
    ['HTTP 500', BEFORE_FINAL, { status: 500, body: 'Internal Server Error' }, /http_status: status=500/],
    ['HTTP 502 after the final moment', AFTER_FINAL, { status: 502, body: '<html>Bad Gateway</html>' }, /http_status: status=502/],
    ['an HTML page with status 200', BEFORE_FINAL, { body: '<html><body>maintenance</body></html>' }, /unverified/],
    ['an empty 200', BEFORE_FINAL, { body: '' }, /unparsable/],
    ['a repeated key', AFTER_FINAL, { body: 'respCode=00&respCode=34' }, /unparsable/],
  ])('is unknown for %s', async (_label, at, answer, reason) => {
    clock = at;
    respond = () => answer;
    const status = await channel.queryPayment(ref);
    expect(status).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(reason) });
  });

  it('is unknown when UnionPay does not answer in time, also after the final moment', async () => {
    clock = AFTER_FINAL;
    respond = () => 'hang';
    const started = Date.now();
    const status = await channel.queryPayment(ref);
    expect(status).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/timeout: no answer within 400 ms/) });
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 10);
  });

  it('is unknown when the gateway cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = createUnionpayChannel(configFor(`http://127.0.0.1:${port}`), { now: () => AFTER_FINAL });
    expect(await unreachable.queryPayment(ref)).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/network_error/) });
  });
});

// ---- closePayment ------------------------------------------------------------------------------

describe('unionpay closePayment (no close call: query, then wait for payTimeout)', () => {
  it.each<[string, Date, Record<string, string | undefined>, unknown]>([
    ['paid', BEFORE_FINAL, { origRespCode: '00' }, { kind: 'paid' }],
    ['processing, before the final moment', BEFORE_FINAL, { origRespCode: '05' }, { kind: 'closing', until: FINAL_MOMENT }],
    ['not found, before the final moment', BEFORE_FINAL, { respCode: '34', origRespCode: undefined }, { kind: 'closing', until: FINAL_MOMENT }],
    ['failed, at the final moment', FINAL_MOMENT, { origRespCode: '01' }, { kind: 'closing', until: FINAL_MOMENT }],
    ['failed, after the final moment', AFTER_FINAL, { origRespCode: '01' }, { kind: 'closed' }],
    ['not found, after the final moment', AFTER_FINAL, { respCode: '34', origRespCode: undefined }, { kind: 'closed' }],
    ['paid, after the final moment', AFTER_FINAL, { origRespCode: 'A6' }, { kind: 'paid' }],
    ['busy', AFTER_FINAL, { respCode: '06', origRespCode: undefined }, { kind: 'unknown', reason: expect.stringMatching(/busy/) }],
  ])('%s', async (_label, at, over, expected) => {
    clock = at;
    await answerWith(over);
    expect(await channel.closePayment(ref)).toEqual(expected);
  });

  it('is unknown when the query times out', async () => {
    respond = () => 'hang';
    expect(await channel.closePayment(ref)).toMatchObject({ kind: 'unknown' });
  });
});

// ---- notifications -----------------------------------------------------------------------------

function consumeNotice(over: Record<string, string | undefined> = {}): Record<string, string> {
  const fields: Record<string, string | undefined> = {
    version: '5.1.0',
    encoding: 'UTF-8',
    bizType: '000201',
    txnType: '01',
    txnSubType: '01',
    accessType: '0',
    merId: MER_ID,
    orderId: ORDER_ID,
    txnTime: '20240501120000',
    txnAmt: '8888',
    currencyCode: '156',
    queryId: '782405011203051234567',
    respCode: '00',
    respMsg: 'Success!',
    traceNo: '123456',
    traceTime: '0501120305',
    settleAmt: '8888',
    settleCurrencyCode: '156',
    settleDate: '0501',
    payType: '0001',
    reqReserved: '{order=1&note=a b+c}',
    ...over,
  };
  return Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined));
}

/** A URL-encoded backUrl POST body, signed; `extra` is added after signing (blank parameters). */
async function noticeBody(over: Record<string, string | undefined> = {}, opts: SignOptions = {}, extra: Array<[string, string]> = []) {
  return encodeForm(new Map([...(await signedFields(consumeNotice(over), opts)), ...extra]));
}

const notification = (rawBody: string) =>
  channel.parseNotification({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody });

describe('unionpay backUrl notification', () => {
  it('accepts a signed consume success as paid, with an id built from the notice', async () => {
    expect(await notification(await noticeBody())).toEqual({
      verified: true,
      notificationId: `${ORDER_ID}:20240501120000:01:782405011203051234567:00`,
      outTradeNo: ORDER_ID,
      status: {
        kind: 'paid',
        channelTradeNo: '782405011203051234567',
        amountMinor: 8888,
        currency: 'CNY',
        paidAt: new Date('2024-05-01T04:03:05Z'),
      },
    });
  });

  it('gives a resent notice the same id, and another notice another id', async () => {
    const first = await notification(await noticeBody());
    const resent = await notification(await noticeBody());
    const otherQueryId = await notification(await noticeBody({ queryId: '782405011203051234568' }));
    const otherOrder = await notification(await noticeBody({ orderId: 'pc0123456789abcdefghijklmnopqrsu' }));
    expect(resent.notificationId).toBe(first.notificationId);
    expect(otherQueryId.notificationId).not.toBe(first.notificationId);
    expect(otherOrder.notificationId).not.toBe(first.notificationId);
  });

  it('drops blank parameters before verifying (they were not signed)', async () => {
    const body = await noticeBody({}, {}, [['reqReserved2', ''], ['payCardNo', '']]);
    expect(body).toMatch(/&reqReserved2=&payCardNo=$/);
    expect(await notification(body)).toMatchObject({ verified: true, status: { kind: 'paid' } });
  });

  it('reads A6 as paid and any other respCode as not paid', async () => {
    expect(await notification(await noticeBody({ respCode: 'A6' }))).toMatchObject({ verified: true, status: { kind: 'paid' } });
    expect(await notification(await noticeBody({ respCode: '01', respMsg: 'failed' }))).toMatchObject({
      verified: true,
      notificationId: `${ORDER_ID}:20240501120000:01:782405011203051234567:01`,
      status: { kind: 'not_paid' },
    });
  });

  const selfMade = issue({ cn: UNIONPAY_CN });
  const id = `${ORDER_ID}:20240501120000:01:782405011203051234567:00`;
  it.each<[string, () => Promise<string>, Record<string, unknown>]>([
    [
      'a tampered amount',
      async () => (await noticeBody()).replace('txnAmt=8888', 'txnAmt=1'),
      { reason: 'bad_signature', outTradeNo: ORDER_ID, notificationId: id },
    ],
    [
      'a self-signed certificate',
      () => noticeBody({}, { cert: selfMade, key: createPrivateKey(selfMade.keyPem) }),
      { reason: 'bad_certificate', outTradeNo: ORDER_ID, notificationId: id },
    ],
    ['no signPubKeyCert', async () => (await noticeBody()).replace(/signPubKeyCert=[^&]*&?/, ''), { reason: 'bad_certificate' }],
    ['another merchant', () => noticeBody({ merId: '777290058110049' }), { reason: 'wrong_merchant', outTradeNo: ORDER_ID }],
    ['an undo notice (31)', () => noticeBody({ txnType: '31' }), { reason: 'unsupported_transaction' }],
    ['no respCode', () => noticeBody({ respCode: undefined }), { reason: 'malformed', outTradeNo: ORDER_ID }],
    ['no orderId', () => noticeBody({ orderId: undefined }), { reason: 'malformed' }],
    ['a success without txnAmt', () => noticeBody({ txnAmt: undefined }), { reason: 'malformed', outTradeNo: ORDER_ID }],
    ['a success without queryId', () => noticeBody({ queryId: undefined }), { reason: 'malformed', outTradeNo: ORDER_ID }],
    ['a repeated parameter', async () => `${await noticeBody()}&respCode=01`, { reason: 'malformed' }],
    ['an empty body', async () => '', { reason: 'bad_certificate' }],
    ['a body over 64 KiB', async () => `${await noticeBody()}&pad=${'x'.repeat(65 * 1024)}`, { reason: 'malformed' }],
  ])('refuses %s', async (_label, body, expected) => {
    const result = await notification(await body());
    expect(result).toMatchObject({ verified: false, ...expected });
  });

  it('gives no outTradeNo that UnionPay could not have sent (not 8–40 letters and digits)', async () => {
    const result = await notification(await noticeBody({ orderId: "x' OR 1=1" }, { cert: selfMade, key: createPrivateKey(selfMade.keyPem) }));
    expect(result).toMatchObject({ verified: false, reason: 'bad_certificate' });
    expect(result.outTradeNo).toBeUndefined();
  });

  it('acknowledges with 200 ok, refuses with 400 fail, and keeps no header as evidence', () => {
    expect(channel.notificationAck(true)).toEqual({ statusCode: 200, contentType: 'text/plain', body: 'ok' });
    expect(channel.notificationAck(false, 'bad_signature')).toEqual({ statusCode: 400, contentType: 'text/plain', body: 'fail' });
    expect(channel.isEvidenceHeader('content-type')).toBe(false);
    expect(channel.name).toBe('unionpay');
  });
});
