// The UnionPay ACP 5.1.0 sandbox, driven by an independent test merchant and browser: the
// certificate chain, registration, signatures both ways, the front consume → cashier → pay flow
// with its backUrl notification and front return, queries, payTimeout, duplicates, faults, and
// the notification schedule.
import { beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  control,
  eventually,
  sandboxPerFile,
  serveSandbox,
  startNotificationReceiver,
  type ReceivedNotification,
} from '../helpers/wechatpay-test-client.ts';
import {
  UnionpayTestClient,
  bankMessageProblem,
  beijingTime,
  clickCashier,
  fromBeijingTime,
  frontReturnOf,
  newOrderId,
  newUnionpayMerchant,
  parseForm,
  type Fields,
} from '../helpers/unionpay-test-client.ts';

/** 1 min × 0.002 = 120 ms before the first retry: measurable, and a whole schedule takes 1.4 s. */
const TIME_SCALE = 0.002;
const RETRY_DELAYS_MS = [60_000, 120_000, 240_000, 300_000].map((ms) => ms * TIME_SCALE);
const NOTIFY_URL = 'http://127.0.0.1:9/notify/unionpay'; // nothing listens, for tests that do not look at notifications
const FRONT_URL = 'http://127.0.0.1:9/return/unionpay';
const NOTIFY_FIELDS = [
  'version', 'encoding', 'bizType', 'txnType', 'txnSubType', 'accessType', 'merId', 'orderId', 'txnTime', 'txnAmt',
  'currencyCode', 'queryId', 'respCode', 'respMsg', 'traceNo', 'traceTime', 'settleAmt', 'settleCurrencyCode',
  'settleDate', 'accNo', 'payType', 'signMethod', 'signPubKeyCert', 'signature',
];

const server = sandboxPerFile({ timeScale: TIME_SCALE, notifyTimeoutMs: 1_000 });
let client: UnionpayTestClient;

beforeAll(async () => {
  client = new UnionpayTestClient(server.url, newUnionpayMerchant());
  expect((await client.register()).status).toBe(200);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Receiver = Awaited<ReturnType<typeof startNotificationReceiver>>;

/** A backUrl receiver answering as `answer` says, closed after `work`. */
async function withReceiver(answer: Parameters<typeof startNotificationReceiver>[0], work: (r: Receiver) => Promise<void>): Promise<void> {
  const receiver = await startNotificationReceiver(answer);
  try {
    await work(receiver);
  } finally {
    await receiver.close();
  }
}

/** Consume → cashier; the signed form is returned for re-posts and queries. */
async function openCashier(extra: Fields = {}, backUrl = NOTIFY_URL, c = client) {
  const form = c.sign(c.consumeFields(newOrderId(), backUrl, { frontUrl: FRONT_URL, ...extra }));
  const cashier = await c.frontConsume(form);
  return { form, cashier, orderId: form.orderId!, txnTime: form.txnTime! };
}

async function ledgerOf(orderId: string): Promise<any> {
  return (await control(server.url, 'GET', `/sandbox/ledger?outTradeNo=${orderId}`)).body.trades[0];
}

async function viewOf(orderId: string): Promise<any> {
  const { rows } = await server.pool.query('SELECT * FROM sandbox_unionpay.ledger WHERE out_trade_no = $1', [orderId]);
  return rows[0];
}

async function withFaults(faults: Record<string, unknown>, work: () => Promise<void>): Promise<void> {
  expect((await control(server.url, 'PUT', '/sandbox/faults', faults)).status).toBe(200);
  try {
    await work();
  } finally {
    await control(server.url, 'DELETE', '/sandbox/faults');
  }
}

describe('certificates and registration', () => {
  it('signs answers with a certificate that chains to the returned middle and root and names UnionPay in its CN', async () => {
    const { fields, raw, problem } = await client.query(newOrderId(), beijingTime(new Date()));
    expect(problem).toBeUndefined();
    expect(fields.signPubKeyCert).toContain('\r\n');
    expect(raw).toContain('-----BEGIN CERTIFICATE-----\r\n'); // un-encoded on the wire
    const cert = new X509Certificate(fields.signPubKeyCert!);
    expect(/^CN=(.*)$/m.exec(cert.subject)![1]!.split('@')[2]).toBe('中国银联股份有限公司');
    const { rootCert, middleCert } = client.trust;
    expect([cert.ca, middleCert.ca, rootCert.ca]).toEqual([false, true, true]);
    expect(cert.verify(middleCert.publicKey) && middleCert.verify(rootCert.publicKey) && rootCert.verify(rootCert.publicKey)).toBe(true);
    expect(cert.verify(rootCert.publicKey)).toBe(false); // issued by the middle, not the root
    for (const c of [cert, middleCert, rootCert]) {
      expect(c.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
      expect(new Date(c.validTo).getTime()).toBeGreaterThan(Date.now() + 5 * 365 * 86_400_000);
    }
  });

  it('issues the merchant a certificate from the middle CA whose serial, in decimal, is the certId', async () => {
    const list = await control(server.url, 'GET', '/sandbox/unionpay/merchants');
    const mine = list.body.merchants.find((m: { merId: string }) => m.merId === client.merchant.merId);
    const cert = new X509Certificate(mine.signCert);
    expect(BigInt('0x' + cert.serialNumber).toString()).toBe(client.merchant.certId);
    expect(cert.verify(client.trust.middleCert.publicKey)).toBe(true);
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(client.merchant.publicKeyPem);
    expect(JSON.stringify(list.body)).not.toContain('PRIVATE KEY');
  });

  it('keeps its chain across a restart on the same ledger', async () => {
    const again = await serveSandbox(server.pool, { timeScale: TIME_SCALE });
    try {
      const list = await control(again.url, 'GET', '/sandbox/unionpay/merchants');
      expect(new X509Certificate(list.body.rootCert).fingerprint256).toBe(client.trust.rootCert.fingerprint256);
    } finally {
      await again.close();
    }
  });

  it('issues a new certificate on re-registration, after which the old certId is refused with 11', async () => {
    const rotating = new UnionpayTestClient(server.url, newUnionpayMerchant());
    await rotating.register();
    const oldCertId = rotating.merchant.certId!;
    const oldForm = rotating.sign(rotating.consumeFields(newOrderId(), NOTIFY_URL));
    await rotating.register();
    expect(rotating.merchant.certId).not.toBe(oldCertId);
    expect((await rotating.frontConsume(oldForm)).respCode).toBe('11');
    expect((await rotating.frontConsume(rotating.sign(rotating.consumeFields(newOrderId(), NOTIFY_URL)))).state).toBe('payable');
  });

  it.each([
    ['a merId of 14 digits', { merId: '12345678901234' }],
    ['no public key', { merchantPublicKey: undefined }],
    ['an unreadable public key', { merchantPublicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }],
    ['an unknown field', { extra: 1 }],
  ])('rejects %s with 400', async (_name, change) => {
    const body = { merId: '777000000000001', merchantPublicKey: client.merchant.publicKeyPem, ...change };
    const res = await control(server.url, 'POST', '/sandbox/unionpay/merchants', body);
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_request']);
  });
});

describe('merchant signatures', () => {
  it('refuses a consume whose signature does not verify with 11, and creates nothing', async () => {
    const form = client.sign(client.consumeFields(newOrderId(), NOTIFY_URL));
    const page = await client.frontConsume({ ...form, txnAmt: '1' });
    expect(page.respCode).toBe('11');
    expect((await client.query(form.orderId!, form.txnTime!)).fields.respCode).toBe('34');
  });

  it("refuses a consume signed under another merchant's certificate with 11", async () => {
    const other = new UnionpayTestClient(server.url, newUnionpayMerchant());
    await other.register();
    const forged = other.sign(client.consumeFields(newOrderId(), NOTIFY_URL));
    expect((await client.frontConsume(forged)).respCode).toBe('11');
  });

  it('refuses a consume without certId with 13', async () => {
    const { certId: _dropped, ...form } = client.sign(client.consumeFields(newOrderId(), NOTIFY_URL));
    expect((await client.frontConsume(form)).respCode).toBe('13');
  });

  it('answers a query with a bad signature with a signed respCode 11', async () => {
    const fields = client.sign(client.queryFields(newOrderId(), beijingTime(new Date())));
    const answer = await client.query('', '', { ...fields, signature: fields.signature!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) });
    expect(answer.problem).toBeUndefined();
    expect(answer.fields).toMatchObject({ respCode: '11', merId: client.merchant.merId });
  });

  it('ignores blank fields when verifying, as ACP drops them before signing', async () => {
    const form = client.sign(client.consumeFields(newOrderId(), NOTIFY_URL));
    expect((await client.frontConsume({ ...form, riskRateInfo: '' })).state).toBe('payable');
  });
});

describe('front consume and cashier', () => {
  it('creates the trade, pays it at the cashier, notifies backUrl and returns the browser to frontUrl', async () => {
    // Two receivers: the merchant's backUrl, and its frontUrl as the browser reaches it.
    await withReceiver(() => 200, (receiver) => withReceiver(() => 200, async (browser) => {
      const reqReserved = Buffer.from('paycenter:order=1&x={y}').toString('base64');
      const { cashier, orderId, txnTime } = await openCashier({ reqReserved }, receiver.url);
      expect([cashier.status, cashier.state]).toEqual([200, 'payable']);
      expect(cashier.html).toContain('¥88.88');
      expect(cashier.html).toContain('>Pay</button>');
      expect(cashier.html).toContain('>Cancel</button>');
      expect((await client.query(orderId, txnTime)).fields).toMatchObject({ respCode: '00', origRespCode: '05', txnAmt: '8888' });
      expect(await viewOf(orderId)).toMatchObject({ channel: 'unionpay', state: 'not_paid', amount: 8888, currency: 'CNY' });

      const returned = await clickCashier(server.url, cashier, 'pay');
      expect(returned.respCode).toBe('00');
      const front = frontReturnOf(returned)!;
      expect(front.action).toBe(FRONT_URL);
      expect(bankMessageProblem(client.trust, front.fields)).toBeUndefined();
      expect(front.fields).toMatchObject({ respCode: '00', orderId, txnAmt: '8888', reqReserved });

      await receiver.waitFor(1);
      const [notification] = receiver.received;
      expect(notification!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
      const notified = parseForm(notification!.body);
      expect(bankMessageProblem(client.trust, notified)).toBeUndefined();
      for (const name of NOTIFY_FIELDS) expect(notified[name], name).toMatch(/\S/);
      expect(Object.values(notified).every((v) => v !== '')).toBe(true);
      expect(notified).toMatchObject({
        version: '5.1.0', bizType: '000201', txnType: '01', txnSubType: '01', accessType: '0', merId: client.merchant.merId,
        orderId, txnTime, txnAmt: '8888', currencyCode: '156', respCode: '00', settleAmt: '8888', settleCurrencyCode: '156',
        signMethod: '01', queryId: front.fields.queryId, reqReserved,
      });
      expect(notified.accNo).toContain('*');
      expect(notified.settleDate).toBe(beijingTime(new Date()).slice(4, 8));

      // The browser follows the auto-submitting form: informative, and signed like the notification.
      await fetch(front.action.replace(FRONT_URL, browser.url), { method: 'POST', body: new URLSearchParams(front.fields) });
      await browser.waitFor(1);
      expect(bankMessageProblem(client.trust, parseForm(browser.received[0]!.body))).toBeUndefined();

      const queried = await client.query(orderId, txnTime);
      expect(queried.problem).toBeUndefined();
      expect(queried.fields).toMatchObject({
        respCode: '00', origRespCode: '00', queryId: notified.queryId, traceNo: notified.traceNo, traceTime: notified.traceTime,
        settleDate: notified.settleDate, accNo: notified.accNo, txnAmt: '8888', reqReserved,
      });
      await eventually(async () =>
        expect(await ledgerOf(orderId)).toMatchObject({
          channel: 'unionpay', state: 'paid', channelState: '00', transactionId: notified.queryId, amount: 8888, currency: 'CNY',
          notificationsSent: 1, notificationsAcknowledged: 1,
        }),
      );
      expect(await viewOf(orderId)).toMatchObject({ state: 'paid', transaction_id: notified.queryId, mch_id: client.merchant.merId });
      expect((await clickCashier(server.url, cashier, 'pay')).respCode).toBe('00'); // a second click shows the payment again
      expect(receiver.received).toHaveLength(1);
    }));
  });

  it('on Cancel returns the browser with respCode 01, sends no notification, and leaves the trade payable', async () => {
    await withReceiver(() => 200, async (receiver) => {
      const { cashier, orderId, txnTime } = await openCashier({}, receiver.url);
      const returned = await clickCashier(server.url, cashier, 'cancel');
      const front = frontReturnOf(returned)!;
      expect(bankMessageProblem(client.trust, front.fields)).toBeUndefined();
      expect(front.fields).toMatchObject({ respCode: '01', orderId });
      expect(front.fields.queryId).toBeUndefined();
      await sleep(300);
      expect(receiver.received).toHaveLength(0);
      expect((await client.query(orderId, txnTime)).fields.origRespCode).toBe('05');
      expect((await control(server.url, 'POST', '/sandbox/pay', { outTradeNo: orderId })).status).toBe(200);
      await receiver.waitFor(1);
    });
  });

  it('shows a result page instead of a return form when the merchant gave no frontUrl', async () => {
    const form = client.sign(client.consumeFields(newOrderId(), NOTIFY_URL));
    const returned = await clickCashier(server.url, await client.frontConsume(form), 'pay');
    expect(returned.respCode).toBe('00');
    expect(frontReturnOf(returned)).toBeUndefined();
  });

  it('reopens the same cashier for the same form, and refuses the orderId with other fields with 12', async () => {
    const { form, orderId } = await openCashier();
    expect((await client.frontConsume(form)).state).toBe('payable');
    expect((await client.frontConsume(client.sign({ ...form, txnAmt: '1' }))).respCode).toBe('12');
    const laterTxnTime = beijingTime(new Date(fromBeijingTime(form.txnTime!).getTime() + 1_000));
    expect((await client.frontConsume(client.sign({ ...form, txnTime: laterTxnTime }))).respCode).toBe('12');
    expect(await ledgerOf(orderId)).toMatchObject({ amount: 8888, state: 'not_paid' });
  });

  it.each([
    ['version 5.0.0', '10', { version: '5.0.0' }],
    ['an orderId with "-"', '10', { orderId: 'ORDER-2024-0001' }],
    ['an orderId of 7 characters', '10', { orderId: 'ABC1234' }],
    ['txnAmt with a decimal point', '10', { txnAmt: '88.88' }],
    ['txnAmt with a leading zero', '10', { txnAmt: '0888' }],
    ['txnAmt above a 32-bit integer', '33', { txnAmt: '2147483648' }],
    ['currencyCode 840', '10', { currencyCode: '840' }],
    ['bizType 000000', '10', { bizType: '000000' }],
    ['txnSubType 02', '10', { txnSubType: '02' }],
    ['accessType 1', '10', { accessType: '1' }],
    ['a txnTime of 30 February', '10', { txnTime: '20240230120000' }],
    ['a txnTime an hour old', '39', { txnTime: beijingTime(new Date(Date.now() - 3_600_000)) }],
    ['a payTimeout before txnTime', '10', { payTimeout: beijingTime(new Date(Date.now() - 60_000)) }],
    ['a reqReserved with "&"', '10', { reqReserved: 'a=1&b=2' }],
    ['no backUrl', '13', { backUrl: '' }],
    ['no channelType', '13', { channelType: '' }],
  ])('refuses %s with respCode %s', async (_name, respCode, change) => {
    const form = client.sign({ ...client.consumeFields(newOrderId(), NOTIFY_URL), ...change });
    const page = await client.frontConsume(form);
    expect([page.status, page.respCode]).toEqual([200, respCode]);
  });

  it.each([
    ['a txnTime 14 minutes old', { txnTime: beijingTime(new Date(Date.now() - 14 * 60_000)) }],
    ['a txnTime 14 minutes ahead', { txnTime: beijingTime(new Date(Date.now() + 14 * 60_000)) }],
    ['txnAmt of 2147483647 fen', { txnAmt: '2147483647' }],
    ['an orderId of 8 characters', { orderId: randomBytes(4).toString('hex') }],
    ['an orderId of 40 characters', { orderId: randomBytes(20).toString('hex') }],
    ['channelType 08', { channelType: '08' }],
  ])('accepts %s', async (_name, change) => {
    const form = client.sign({ ...client.consumeFields(newOrderId(), NOTIFY_URL), ...change });
    expect((await client.frontConsume(form)).state).toBe('payable');
  });
});

describe('query', () => {
  it('answers 34 until the transaction exists, and for the orderId with another txnTime', async () => {
    const orderId = newOrderId();
    const txnTime = beijingTime(new Date());
    const before = await client.query(orderId, txnTime);
    expect(before.problem).toBeUndefined();
    expect(before.fields).toMatchObject({ respCode: '34', orderId, txnTime });
    expect(before.fields.origRespCode).toBeUndefined();
    const form = client.sign({ ...client.consumeFields(orderId, NOTIFY_URL), txnTime });
    expect((await client.frontConsume(form)).state).toBe('payable');
    expect((await client.query(orderId, txnTime)).fields).toMatchObject({ respCode: '00', origRespCode: '05' });
    const otherTime = beijingTime(new Date(fromBeijingTime(txnTime).getTime() - 1_000));
    expect((await client.query(orderId, otherTime)).fields.respCode).toBe('34');
  });

  it.each([
    ['txnType 01', '10', { txnType: '01' }],
    ['no txnTime', '13', { txnTime: '' }],
  ])('refuses a query with %s with a signed respCode %s', async (_name, respCode, change) => {
    const fields = client.sign({ ...client.queryFields(newOrderId(), beijingTime(new Date())), ...change });
    const answer = await client.query('', '', fields);
    expect(answer.problem).toBeUndefined();
    expect(answer.fields.respCode).toBe(respCode);
  });

  it('accepts bizType 000000, as some official demos query with it', async () => {
    const fields = client.sign({ ...client.queryFields(newOrderId(), beijingTime(new Date())), bizType: '000000' });
    expect((await client.query('', '', fields)).fields.respCode).toBe('34');
  });
});

describe('payTimeout', () => {
  it('refuses payment after it, sends only the front return, and answers a final origRespCode 01', async () => {
    await withReceiver(() => 200, async (receiver) => {
      const payTimeout = beijingTime(new Date(Date.now() + 2_000));
      const { cashier, orderId, txnTime, form } = await openCashier({ payTimeout }, receiver.url);
      expect(cashier.state).toBe('payable');
      await sleep(fromBeijingTime(payTimeout).getTime() - Date.now() + 50);

      const returned = await clickCashier(server.url, cashier, 'pay');
      expect(frontReturnOf(returned)!.fields).toMatchObject({ respCode: '01', orderId });
      const paid = await control(server.url, 'POST', '/sandbox/pay', { outTradeNo: orderId });
      expect([paid.status, paid.body.error.code]).toEqual([409, 'trade_expired']);
      await sleep(300);
      expect(receiver.received).toHaveLength(0);

      const queried = await client.query(orderId, txnTime);
      expect(queried.problem).toBeUndefined();
      expect(queried.fields).toMatchObject({ respCode: '00', origRespCode: '01' });
      expect(await ledgerOf(orderId)).toMatchObject({ state: 'closed', channelState: '01', transactionId: null });
      expect((await ledgerOf(orderId)).closedAt).toBe(fromBeijingTime(payTimeout).toISOString());
      expect(await viewOf(orderId)).toMatchObject({ state: 'closed' });
      expect((await client.frontConsume(form)).state).toBe('expired');
    });
  });
});

describe('query faults', () => {
  it('queryErrorRate answers a signed respCode 06 (system busy)', async () => {
    await withFaults({ queryErrorRate: 1 }, async () => {
      const answer = await client.query(newOrderId(), beijingTime(new Date()));
      expect(answer.problem).toBeUndefined();
      expect(answer.fields.respCode).toBe('06');
    });
  });

  it('queryTimeoutRate destroys the socket without an answer', async () => {
    await withFaults({ queryTimeoutRate: 1 }, async () => {
      await expect(client.query(newOrderId(), beijingTime(new Date()))).rejects.toThrow();
    });
  });
});

describe('backUrl notifications', () => {
  async function payVia(backUrl: string): Promise<string> {
    const { orderId } = await openCashier({}, backUrl);
    expect((await control(server.url, 'POST', '/sandbox/pay', { outTradeNo: orderId })).status).toBe(200);
    return orderId;
  }

  it('are retried after 1 and 2 (scaled) minutes with the same bytes until the receiver answers 200', async () => {
    await withReceiver((_n, index) => (index < 2 ? 500 : 200), async (receiver) => {
      const orderId = await payVia(receiver.url);
      await receiver.waitFor(3);
      await sleep(2 * RETRY_DELAYS_MS[2]!); // a fourth send would have come by now
      const sends = receiver.received;
      expect(sends).toHaveLength(3);
      expect(new Set(sends.map((n) => n.body)).size).toBe(1);
      for (const [i, gap] of [sends[1]!.atMs - sends[0]!.atMs, sends[2]!.atMs - sends[1]!.atMs].entries()) {
        expect(gap).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[i]! - 5);
        expect(gap).toBeLessThan(RETRY_DELAYS_MS[i]! + 1_000); // generous: a loaded machine runs timers late
      }
      expect(await ledgerOf(orderId)).toMatchObject({ notificationsSent: 3, notificationsAcknowledged: 1 });
    });
  });

  it('take HTTP 302 as an acknowledgement', async () => {
    await withReceiver(() => 302, async (receiver) => {
      const orderId = await payVia(receiver.url);
      await eventually(async () => expect(await ledgerOf(orderId)).toMatchObject({ notificationsSent: 1, notificationsAcknowledged: 1 }));
    });
  });

  it('stop after 5 sends in total', async () => {
    await withReceiver(() => 503, async (receiver) => {
      const orderId = await payVia(receiver.url);
      await receiver.waitFor(5, 10_000);
      await sleep(RETRY_DELAYS_MS[3]! * 2);
      expect(receiver.received).toHaveLength(5);
      const gaps = receiver.received.slice(1).map((n, i) => n.atMs - receiver.received[i]!.atMs);
      gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[i]! - 5));
      await eventually(async () => expect(await ledgerOf(orderId)).toMatchObject({ notificationsSent: 5, notificationsAcknowledged: 0 }));
    });
  }, 20_000);

  it('count a receiver silent past notifyTimeoutMs as a failed send', async () => {
    const impatient = await serveSandbox(server.pool, { timeScale: TIME_SCALE, notifyTimeoutMs: 100 });
    try {
      await withReceiver((_n, index) => (index === 0 ? 'no_answer' : 200), async (receiver) => {
        const { orderId } = await openCashier({}, receiver.url);
        expect((await control(impatient.url, 'POST', '/sandbox/pay', { outTradeNo: orderId })).status).toBe(200);
        await eventually(async () => expect(await ledgerOf(orderId)).toMatchObject({ notificationsSent: 2, notificationsAcknowledged: 1 }));
      });
    } finally {
      await impatient.close();
    }
  });

  it('dropNotifications records the notification as dropped and sends nothing', async () => {
    await withReceiver(() => 200, async (receiver) => {
      await withFaults({ dropNotifications: true }, async () => {
        const orderId = await payVia(receiver.url);
        await sleep(300);
        expect(receiver.received).toHaveLength(0);
        expect(await ledgerOf(orderId)).toMatchObject({ state: 'paid', notificationsSent: 0, notificationsDropped: 1 });
      });
    });
  });

  it('duplicateNotifications sends every attempt twice, byte for byte', async () => {
    await withReceiver(() => 200, async (receiver) => {
      await withFaults({ duplicateNotifications: true }, async () => {
        const orderId = await payVia(receiver.url);
        await receiver.waitFor(2);
        await sleep(2 * RETRY_DELAYS_MS[0]!);
        expect(receiver.received).toHaveLength(2);
        expect(receiver.received[0]!.body).toBe(receiver.received[1]!.body);
        expect(await ledgerOf(orderId)).toMatchObject({ notificationsSent: 2, notificationsAcknowledged: 1 });
      });
    });
  });

  it('signtestProbes adds a copy with a corrupted signature, and logs loudly when a receiver accepts it', async () => {
    const verifies = (n: ReceivedNotification) => bankMessageProblem(client.trust, parseForm(n.body)) === undefined;
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (line, _enc, done) => done(void warnings.push(String(line))) }));
    const probing = await serveSandbox(server.pool, { timeScale: TIME_SCALE, log });
    const payWithProbe = async (receiver: Receiver) => {
      const { orderId } = await openCashier({}, receiver.url);
      expect((await control(probing.url, 'POST', '/sandbox/pay', { outTradeNo: orderId })).status).toBe(200);
      await receiver.waitFor(2);
      expect(receiver.received.filter(verifies)).toHaveLength(1);
      const probe = receiver.received.find((n) => !verifies(n))!;
      expect(bankMessageProblem(client.trust, parseForm(probe.body))).toBe('signature does not verify');
      await eventually(async () => expect(await ledgerOf(orderId)).toMatchObject({ notificationsSent: 1, notificationsAcknowledged: 1 }));
    };
    try {
      await control(probing.url, 'PUT', '/sandbox/faults', { signtestProbes: true });
      // A correct receiver refuses what does not verify: nothing to report.
      await withReceiver((n) => (verifies(n) ? 200 : 400), payWithProbe);
      expect(warnings.join('')).not.toContain('ACCEPTED a probe');
      await withReceiver(() => 200, payWithProbe);
      await eventually(async () => expect(warnings.join('')).toContain('ACCEPTED a probe'));
    } finally {
      await probing.close();
    }
  });
});
