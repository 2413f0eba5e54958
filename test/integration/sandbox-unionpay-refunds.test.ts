// Refunds and the daily reconciliation file of the UnionPay sandbox (channels.md §3.4–§3.8,
// docs/refunds-and-bills.md), driven over HTTP by the independent test merchant: acceptance,
// completion and its signed backUrl notification, resends, over-refunds (concurrent ones too),
// planted failures, refund queries, the zipped fixed-width ZM file, bill plants, and faults.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  control,
  createTestDatabase,
  eventually,
  sandboxPerFile,
  serveSandbox,
  startNotificationReceiver,
} from '../helpers/wechatpay-test-client.ts';
import {
  UnionpayTestClient,
  bankMessageProblem,
  beijingTime,
  newOrderId,
  newUnionpayMerchant,
  parseForm,
  parseZmFile,
  unpackFileContent,
  type Fields,
} from '../helpers/unionpay-test-client.ts';

/** A refund finishes 2 s × 0.1 = 200 ms after acceptance: a query right after it still sees it processing. */
const TIME_SCALE = 0.1;
const NOTIFY_URL = 'http://127.0.0.1:9/notify/unionpay'; // nothing listens, for tests that do not look at notifications

const server = sandboxPerFile({ timeScale: TIME_SCALE, notifyTimeoutMs: 1_000 });
let client: UnionpayTestClient;

beforeAll(async () => {
  client = await registeredClient();
});

async function registeredClient(): Promise<UnionpayTestClient> {
  const c = new UnionpayTestClient(server.url, newUnionpayMerchant());
  expect((await c.register()).status).toBe(200);
  return c;
}

/** A consume paid through /sandbox/pay; queryId is what a refund names as origQryId. */
async function paidConsume(amountFen = 8888, c = client): Promise<{ orderId: string; txnTime: string; queryId: string }> {
  const form = c.sign(c.consumeFields(newOrderId(), NOTIFY_URL, { txnAmt: String(amountFen) }));
  expect((await c.frontConsume(form)).state).toBe('payable');
  const paid = await control(server.url, 'POST', '/sandbox/pay', { outTradeNo: form.orderId });
  expect(paid.status).toBe(200);
  return { orderId: form.orderId!, txnTime: form.txnTime!, queryId: paid.body.transactionId };
}

async function requestRefund(origQryId: string, amountFen: number, backUrl = NOTIFY_URL, c = client) {
  const form = c.sign(c.refundFields(newOrderId('RF'), origQryId, amountFen, backUrl));
  const answer = await c.backTrans(form);
  expect(answer.problem).toBeUndefined();
  return { form, answer: answer.fields };
}

async function refundsOf(outTradeNo: string): Promise<any[]> {
  const listed = await control(server.url, 'GET', `/sandbox/refunds?outTradeNo=${outTradeNo}`);
  expect(listed.status).toBe(200);
  return listed.body.refunds;
}

async function untilRefundState(outTradeNo: string, state: string): Promise<void> {
  await eventually(async () => expect((await refundsOf(outTradeNo)).map((r) => r.state)).toEqual([state]));
}

/** Today's MMDD in Beijing, and the day as the bill-plants control route names it. */
function today(): { settleDate: string; date: string; yyMMdd: string } {
  const t = beijingTime(new Date());
  return { settleDate: t.slice(4, 8), date: `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}`, yyMMdd: t.slice(2, 8) };
}

async function fileOf(c: UnionpayTestClient, settleDate: string): Promise<Fields> {
  const answer = await c.fileTrans(c.sign(c.fileTransFields(settleDate)));
  expect(answer.problem).toBeUndefined();
  return answer.fields;
}

describe('refund', () => {
  it('is accepted with 00, processing at first, then succeeds and notifies its backUrl with a verifiable signature', async () => {
    const receiver = await startNotificationReceiver(() => 200, '/notify/unionpay-refund');
    try {
      const consume = await paidConsume();
      const { form, answer } = await requestRefund(consume.queryId, 1000, receiver.url);
      expect(answer).toMatchObject({ respCode: '00', txnType: '04', orderId: form.orderId, txnTime: form.txnTime, txnAmt: '1000', origQryId: consume.queryId });
      expect(answer.queryId).toMatch(/^\d{21}$/);
      expect(answer.queryId).not.toBe(consume.queryId);

      const processing = await client.query(form.orderId!, form.txnTime!);
      expect(processing.problem).toBeUndefined();
      expect(processing.fields).toMatchObject({ respCode: '00', origRespCode: '05', txnAmt: '1000', queryId: answer.queryId });

      await receiver.waitFor(1);
      const note = parseForm(receiver.received[0]!.body);
      expect(bankMessageProblem(client.trust, note)).toBeUndefined();
      expect(note).toMatchObject({
        txnType: '04', orderId: form.orderId, txnTime: form.txnTime, queryId: answer.queryId,
        origQryId: consume.queryId, txnAmt: '1000', respCode: '00', merId: client.merchant.merId,
      });

      const done = await client.query(form.orderId!, form.txnTime!);
      expect(done.fields).toMatchObject({ respCode: '00', origRespCode: '00', txnAmt: '1000', queryId: answer.queryId, origQryId: consume.queryId });
      const [listed] = await refundsOf(consume.orderId);
      expect(listed).toMatchObject({ channel: 'unionpay', mchId: client.merchant.merId, outTradeNo: consume.orderId, outRefundNo: form.orderId, amount: 1000, state: 'succeeded' });
      expect(Date.parse(listed.finishedAt) - Date.parse(listed.acceptedAt)).toBeGreaterThanOrEqual(2_000 * TIME_SCALE);
    } finally {
      await receiver.close();
    }
  });

  it('answers a resend of the same orderId and fields with 00 again and no second refund; other fields get 12', async () => {
    const consume = await paidConsume();
    const { form, answer } = await requestRefund(consume.queryId, 500);
    const again = await client.backTrans(form);
    expect(again.fields).toMatchObject({ respCode: '00', queryId: answer.queryId });
    const changed = await client.backTrans(client.sign({ ...form, txnAmt: '600' }));
    expect(changed.fields.respCode).toBe('12');
    expect((await refundsOf(consume.orderId)).map((r) => r.amount)).toEqual([500]);
  });

  it('refuses with 35 a refund beyond what is left, and one of an unknown origQryId', async () => {
    const consume = await paidConsume(1000);
    expect((await requestRefund(consume.queryId, 1001)).answer.respCode).toBe('35');
    expect((await requestRefund(consume.queryId, 600)).answer.respCode).toBe('00');
    expect((await requestRefund(consume.queryId, 401)).answer.respCode).toBe('35');
    expect((await requestRefund(consume.queryId, 400)).answer.respCode).toBe('00');
    expect((await requestRefund('209912312359590000000', 1)).answer.respCode).toBe('35');
    expect((await refundsOf(consume.orderId)).map((r) => r.amount)).toEqual([600, 400]);
  });

  it('never lets concurrent refunds together exceed the paid amount', async () => {
    const consume = await paidConsume(1000);
    const answers = await Promise.all(Array.from({ length: 10 }, () => requestRefund(consume.queryId, 150)));
    const codes = answers.map((a) => a.answer.respCode).sort();
    expect(codes).toEqual([...Array(6).fill('00'), ...Array(4).fill('35')]);
    const { rows } = await server.pool.query<{ total: string }>(
      'SELECT sum(amount) AS total FROM sandbox_unionpay.refunds WHERE out_trade_no = $1', [consume.orderId],
    );
    expect(Number(rows[0]!.total)).toBe(900);
  });

  it('fails a refund of a trade set to fail: notified with 01, queried as 01, and its fen can be asked for again', async () => {
    const receiver = await startNotificationReceiver(() => 200, '/notify/unionpay-refund');
    try {
      const consume = await paidConsume(2000);
      expect((await control(server.url, 'POST', '/sandbox/refund-failures', { outTradeNo: consume.orderId })).status).toBe(201);
      const { form } = await requestRefund(consume.queryId, 2000, receiver.url);
      await receiver.waitFor(1);
      const note = parseForm(receiver.received[0]!.body);
      expect(bankMessageProblem(client.trust, note)).toBeUndefined();
      expect(note).toMatchObject({ txnType: '04', orderId: form.orderId, respCode: '01', txnAmt: '2000', origQryId: consume.queryId });
      expect((await client.query(form.orderId!, form.txnTime!)).fields).toMatchObject({ respCode: '00', origRespCode: '01' });
      await untilRefundState(consume.orderId, 'failed');
      // No money moved: the whole amount is refundable again (and fails again).
      expect((await requestRefund(consume.queryId, 2000)).answer.respCode).toBe('00');
    } finally {
      await receiver.close();
    }
  });

  it('is unknown to a query (34) under another orderId or txnTime', async () => {
    const consume = await paidConsume();
    const { form } = await requestRefund(consume.queryId, 100);
    expect((await client.query(newOrderId('RF'), form.txnTime!)).fields.respCode).toBe('34');
    expect((await client.query(form.orderId!, beijingTime(new Date(Date.now() - 3_600_000)))).fields.respCode).toBe('34');
  });

  it('refuses to reuse a consume orderId for a refund (12)', async () => {
    const consume = await paidConsume();
    const form = client.sign({ ...client.refundFields(consume.orderId, consume.queryId, 1, NOTIFY_URL) });
    expect((await client.backTrans(form)).fields.respCode).toBe('12');
  });

  it('still takes the refund when the createTimeoutRate fault drops the answer', async () => {
    const consume = await paidConsume();
    expect((await control(server.url, 'PUT', '/sandbox/faults', { createTimeoutRate: 1 })).status).toBe(200);
    try {
      const form = client.sign(client.refundFields(newOrderId('RF'), consume.queryId, 300, NOTIFY_URL));
      await expect(client.backTrans(form)).rejects.toThrow();
      expect((await refundsOf(consume.orderId)).map((r) => r.outRefundNo)).toEqual([form.orderId]);
    } finally {
      await control(server.url, 'DELETE', '/sandbox/faults');
    }
  });

  it('is finished and notified by a restarted sandbox when the one that accepted it stopped first', async () => {
    const db = await createTestDatabase();
    const receiver = await startNotificationReceiver(() => 200, '/notify/unionpay-refund');
    try {
      // A slow bank (10 s to finish) that stops long before finishing.
      const first = await serveSandbox(db.pool, { timeScale: 5, notifyTimeoutMs: 1_000 });
      const c = new UnionpayTestClient(first.url, newUnionpayMerchant());
      expect((await c.register()).status).toBe(200);
      const consume = c.sign(c.consumeFields(newOrderId(), NOTIFY_URL));
      await c.frontConsume(consume);
      const paid = await control(first.url, 'POST', '/sandbox/pay', { outTradeNo: consume.orderId });
      const refund = c.sign(c.refundFields(newOrderId('RF'), paid.body.transactionId, 100, receiver.url));
      expect((await c.backTrans(refund)).fields.respCode).toBe('00');
      await first.close();
      await db.pool.query(`UPDATE sandbox_unionpay.refund_transactions SET finish_due_at = now()`); // time passes while no sandbox runs
      expect(receiver.received).toEqual([]);

      const second = await serveSandbox(db.pool, { timeScale: TIME_SCALE, notifyTimeoutMs: 1_000 });
      try {
        await receiver.waitFor(1);
        expect(parseForm(receiver.received[0]!.body)).toMatchObject({ txnType: '04', orderId: refund.orderId, respCode: '00' });
      } finally {
        await second.close();
      }
    } finally {
      await receiver.close();
      await db.drop();
    }
  });

  it('lists every channel refund on GET /sandbox/refunds without a filter', async () => {
    const consume = await paidConsume();
    const { form } = await requestRefund(consume.queryId, 1);
    const all = await control(server.url, 'GET', '/sandbox/refunds');
    expect(all.body.refunds.length).toBeGreaterThan(1);
    expect(all.body.refunds.map((r: { outRefundNo: string }) => r.outRefundNo)).toContain(form.orderId);
  });
});

describe('reconciliation file', () => {
  it("holds today's consume (S22) and successful refund (S30) in the fixed-width ZM file, zipped and deflated", async () => {
    const merchant = await registeredClient();
    const consume = await paidConsume(8888, merchant);
    const { form, answer } = await requestRefund(consume.queryId, 1000, NOTIFY_URL, merchant);
    await untilRefundState(consume.orderId, 'succeeded');
    const { settleDate, yyMMdd } = today();

    const file = await fileOf(merchant, settleDate);
    expect(file).toMatchObject({ respCode: '00', txnType: '76', settleDate, merId: merchant.merchant.merId });
    expect(file.fileName).toBeTruthy();
    const files = unpackFileContent(file.fileContent!);
    const name = `INN${yyMMdd}88ZM_${merchant.merchant.merId}`;
    expect(Object.keys(files)).toEqual([name]);
    expect(parseZmFile(files[name]!)).toEqual([
      { txnCode: 'S22', queryId: consume.queryId, orderId: consume.orderId, txnTime: consume.txnTime, txnAmt: '000000008888', currencyCode: '156', origQryId: '', respCode: '00' },
      { txnCode: 'S30', queryId: answer.queryId, orderId: form.orderId, txnTime: form.txnTime, txnAmt: '000000001000', currencyCode: '156', origQryId: consume.queryId, respCode: '00' },
    ]);
  });

  it('leaves out failed refunds', async () => {
    const merchant = await registeredClient();
    const consume = await paidConsume(700, merchant);
    await control(server.url, 'POST', '/sandbox/refund-failures', { outTradeNo: consume.orderId });
    await requestRefund(consume.queryId, 700, NOTIFY_URL, merchant);
    await untilRefundState(consume.orderId, 'failed');
    const file = await fileOf(merchant, today().settleDate);
    const lines = Object.values(unpackFileContent(file.fileContent!)).flatMap(parseZmFile);
    expect(lines.map((l) => l.txnCode)).toEqual(['S22']);
  });

  it('shows bill plants: a changed amount and an extra payment', async () => {
    const merchant = await registeredClient();
    const consume = await paidConsume(500, merchant);
    const { date, settleDate } = today();
    const plants = [
      { type: 'amount', outTradeNo: consume.orderId, amountMinor: 499 },
      { type: 'extra_payment', outTradeNo: 'PLANTED00000001', amountMinor: 123 },
    ];
    try {
      for (const plant of plants) expect((await control(server.url, 'POST', '/sandbox/bill-plants', { channel: 'unionpay', date, plant })).status).toBe(201);
      const file = await fileOf(merchant, settleDate);
      const lines = Object.values(unpackFileContent(file.fileContent!)).flatMap(parseZmFile);
      expect(lines.map((l) => [l.txnCode, l.orderId, l.txnAmt])).toEqual([
        ['S22', consume.orderId, '000000000499'],
        ['S22', 'PLANTED00000001', '000000000123'],
      ]);
    } finally {
      await control(server.url, 'DELETE', '/sandbox/bill-plants');
    }
    // The ledger is untouched.
    expect((await control(server.url, 'GET', `/sandbox/ledger?outTradeNo=${consume.orderId}`)).body.trades[0].amount).toBe(500);
  });

  it('answers 98 for a day without transactions, and reads tomorrow\'s MMDD as that day a year ago (never a future day)', async () => {
    const merchant = await registeredClient();
    expect((await fileOf(merchant, today().settleDate)).respCode).toBe('98');
    await paidConsume(100, merchant);
    const tomorrow = beijingTime(new Date(Date.now() + 86_400_000)).slice(4, 8);
    const file = await fileOf(merchant, tomorrow);
    expect(file.respCode).toBe('98');
    expect(file.fileContent).toBeUndefined();
  });

  it('refuses a settleDate that is no calendar day with 10', async () => {
    expect((await fileOf(client, '1332')).respCode).toBe('10');
  });
});
