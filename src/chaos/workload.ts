// The shoppers of a chaos run. Each logical purchase is submitted several times at once (with
// and without an Idempotency-Key), paid through one of the three channels with repeated
// concurrent pay calls — some buyers first open one channel's QR code or cashier and then switch
// to another —, paid at the bank at a random moment (some after expiry), closed by the merchant,
// or abandoned; some buyers wait with the client kit's waitForPayment, some attempts get forged
// notifications, and some buyers try to pay an attempt Paycenter closed when they switched.
// Money that must go back: some paid orders get merchant refunds (workload-refunds.ts), some
// buyers pay one order on two channels at once, and some pay an Alipay QR code after the merchant
// closed its order.
import { createPaycenterClient, type EventHub } from '../client/index.ts';
import type { PayAction } from '../channels/types.ts';
import { buyerPays, openCashier } from '../harness/buyer.ts';
import type { Forgers } from './forgers.ts';
import { askRefunds, newRefundStats, type Answer, type RefundStats } from './workload-refunds.ts';
import type { Rng } from './random.ts';
import { PURCHASE_METADATA_KEY, type WorkloadLog } from './types.ts';

export interface WorkloadOptions {
  purchases: number;
  /** Shoppers active at once. */
  concurrency: number;
  rng: Rng;
  apiKey: string;
  /** Base URLs of the Paycenter instances up now. */
  liveUrls(): string[];
  sandboxUrl: string;
  forgers: Forgers;
  hub: EventHub;
  /** Purchase ids are `<prefix>-<n>`; a run's prefix keeps its purchases apart from others'. */
  prefix: string;
  onPurchaseDone(): void;
}

export interface WorkloadStats {
  purchases: number;
  withoutOrder: number;
  /** Why those purchases got no order: the last answer of their copies (error code, HTTP status or network). */
  withoutOrderBecause: Record<string, number>;
  paidAtBank: number;
  /** The same, per channel of the trade paid. */
  paidAtBankBy: Record<string, number>;
  /** Purchases whose buyer switched channel or method before paying. */
  switches: number;
  /** Attempts closed by a switch that the buyer then tried to pay; the bank must refuse each. */
  closedPayTries: number;
  forged: number;
  waits: number;
  requestErrors: number;
  refunds: RefundStats;
  /** Buyers who paid one order through Alipay (its QR left CLOSING by a switch) and another channel at once; `paidTwice`: the bank took both. */
  doublePays: { tried: number; paidTwice: number };
  /** Buyers who paid an Alipay QR code after the merchant closed its order; `paid`: the bank took it. */
  latePays: { tried: number; paid: number };
}

const REQUEST_TIMEOUT_MS = 15_000;
const RETRIES_MAX = 8;
const RETRY_PAUSE_MS = 250;
/** Orders expire in this many seconds: short, so expiry races with payment often. */
const EXPIRES_IN_SECONDS = { min: 5, max: 20 };
/** Every channel and method the shoppers pay with. */
const PAY_OPTIONS: readonly { channel: string; method: string }[] = [
  { channel: 'wechatpay', method: 'native' },
  { channel: 'alipay', method: 'qr' },
  { channel: 'alipay', method: 'page' },
  { channel: 'unionpay', method: 'gateway' },
];
const SWITCH_SHARE = 0.3;
/** Shares of purchases that pay twice at once, and that pay after the merchant's close. */
const DOUBLE_PAY_SHARE = 0.05;
const LATE_PAY_SHARE = 0.05;
/** Share of orders paid at the bank whose merchant then refunds (about 10 % of purchases). */
const REFUND_SHARE = 0.25;
/** An Alipay QR code nobody scanned: a switch or a close leaves its attempt CLOSING, still payable until its expiry. */
const ALIPAY_QR = { channel: 'alipay', method: 'qr' };
const AFTER_ALIPAY_QR = PAY_OPTIONS.filter((o) => o.channel !== 'alipay');

interface Payment {
  id: string;
  channel: string;
  outTradeNo: string;
  state: string;
  action: PayAction | null;
}

export async function runWorkload(opts: WorkloadOptions, log: WorkloadLog): Promise<WorkloadStats> {
  const stats: WorkloadStats = {
    purchases: 0,
    withoutOrder: 0,
    withoutOrderBecause: {},
    paidAtBank: 0,
    paidAtBankBy: {},
    switches: 0,
    closedPayTries: 0,
    forged: 0,
    waits: 0,
    requestErrors: 0,
    refunds: newRefundStats(),
    doublePays: { tried: 0, paidTwice: 0 },
    latePays: { tried: 0, paid: 0 },
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const request = async (base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(base + path, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Plain text (the notify endpoint's answers).
    }
    return { status: res.status, body: parsed };
  };

  /** Calls a live instance; a dead one, a 5xx or an in-flight key is retried on another, as a client would. */
  const api = async (
    rng: Rng,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    onGiveUp: (lastFailure: string) => void = () => undefined,
  ): Promise<Answer | undefined> => {
    let lastFailure = 'no instance up';
    for (let i = 0; i < RETRIES_MAX; i++) {
      const live = opts.liveUrls();
      if (live.length > 0) {
        try {
          const answer = await request(rng.pick(live), method, path, body, { authorization: `Bearer ${opts.apiKey}`, ...headers });
          const code = answer.body?.error?.code;
          const retry = answer.status >= 500 || code === 'idempotency_key_in_flight';
          if (!retry) return answer;
          lastFailure = code ?? `HTTP ${answer.status}`;
        } catch {
          stats.requestErrors += 1;
          lastFailure = 'network';
        }
      }
      await sleep(RETRY_PAUSE_MS * (i + 1));
    }
    onGiveUp(lastFailure);
    return undefined;
  };

  const submitCopy = async (
    rng: Rng,
    purchase: string,
    content: Record<string, unknown>,
    copy: number,
    keyed: boolean,
    onGiveUp: (lastFailure: string) => void,
  ) => {
    const body = { ...content, merchantOrderNo: keyed ? `m-${purchase}` : `m-${purchase}-${copy}` };
    const answer = await api(rng, 'POST', '/v1/orders', body, keyed ? { 'idempotency-key': `k-${purchase}` } : {}, onGiveUp);
    if (!answer) return undefined;
    if (answer.status === 201) return answer.body.id as string;
    return answer.body?.error?.orderId as string | undefined;
  };

  /** The buyer pays at the bank; true when the bank took the money. */
  const buyerPaid = async (payment: { channel: string; outTradeNo: string; action: PayAction | null }): Promise<boolean> => {
    const paid = await buyerPays(opts.sandboxUrl, payment).catch(() => undefined);
    if (paid?.status !== 200) return false;
    stats.paidAtBankBy[payment.channel] = (stats.paidAtBankBy[payment.channel] ?? 0) + 1;
    return true;
  };

  /** Several concurrent pay calls, as a double-clicking buyer makes; the answer of one that succeeded. */
  const pay = async (rng: Rng, orderId: string, option: { channel: string; method: string }) => {
    const calls = await Promise.all(Array.from({ length: rng.int(1, 3) }, () => api(rng, 'POST', `/v1/orders/${orderId}/pay`, option)));
    const ok = calls.find((c) => c?.status === 200)?.body;
    return ok as { payment: Payment; order: { payments: Payment[] } } | undefined;
  };

  const forge = async (rng: Rng, channel: string, outTradeNo: string, amount: number) => {
    const forged = opts.forgers.forge(rng, channel, { outTradeNo, amount });
    // A forger, like the bank, sends again until Paycenter answers: a 5xx (a connection cut under
    // it) means it was not taken in, and only what Paycenter took in is checked.
    for (let i = 0; i < RETRIES_MAX; i++) {
      const live = opts.liveUrls();
      if (live.length === 0) return;
      const answer = await request(rng.pick(live), 'POST', `/notify/${channel}`, forged.body, forged.headers).catch(() => undefined);
      if (answer && answer.status < 500) {
        log.forged.push({ channel, outTradeNo, kind: forged.kind, body: forged.body });
        return;
      }
      await sleep(RETRY_PAUSE_MS * (i + 1));
    }
  };

  /**
   * Pays with one channel, or first looks at another one's QR code or cashier and switches. An
   * attempt the switch closed for good (CLOSED) is sometimes paid anyway: the bank must refuse.
   */
  const choosePayment = async (rng: Rng, orderId: string): Promise<Payment | undefined> => {
    const final = rng.pick(PAY_OPTIONS);
    if (!rng.chance(SWITCH_SHARE)) return (await pay(rng, orderId, final))?.payment;
    const first = (await pay(rng, orderId, rng.pick(PAY_OPTIONS.filter((o) => o !== final))))?.payment;
    if (first?.action && rng.chance(0.5)) await openCashier(first.action).catch(() => undefined);
    const switched = await pay(rng, orderId, final);
    if (!switched) return undefined;
    stats.switches += 1;
    const old = first && switched.order.payments.find((p) => p.id === first.id);
    if (old?.state === 'CLOSED' && rng.chance(0.3)) {
      stats.closedPayTries += 1;
      await buyerPaid({ ...old, action: null });
    }
    return switched.payment;
  };

  /**
   * Opens an Alipay QR code, switches to WeChat Pay or UnionPay (the QR's attempt is left CLOSING),
   * then pays both at once: Paycenter must keep one and refund the other in full.
   */
  const payTwice = async (rng: Rng, orderId: string): Promise<boolean> => {
    const qr = (await pay(rng, orderId, ALIPAY_QR))?.payment;
    const other = qr && (await pay(rng, orderId, rng.pick(AFTER_ALIPAY_QR)))?.payment;
    if (!qr || !other) return false;
    stats.doublePays.tried += 1;
    const paid = await Promise.all([buyerPaid({ ...qr, action: null }), buyerPaid(other)]);
    if (paid.every(Boolean)) stats.doublePays.paidTwice += 1;
    return paid.some(Boolean);
  };

  /** Opens an Alipay QR code, the merchant closes the order, then the buyer scans and pays it: a late payment, refunded in full. */
  const payAfterClose = async (rng: Rng, orderId: string): Promise<void> => {
    const qr = (await pay(rng, orderId, ALIPAY_QR))?.payment;
    if (!qr) return;
    const closed = await api(rng, 'POST', `/v1/orders/${orderId}/close`);
    if (closed?.status !== 200) return;
    stats.latePays.tried += 1;
    await sleep(rng.int(0, 1_000));
    if (await buyerPaid({ ...qr, action: null })) stats.latePays.paid += 1;
  };

  const refund = (rng: Rng, order: { id: string; amount: number; purchase: string }) =>
    rng.chance(REFUND_SHARE) ? askRefunds(rng, api, order, log, stats.refunds) : undefined;

  const shopper = async (n: number): Promise<void> => {
    const rng = opts.rng.fork(`purchase-${n}`);
    const purchase = `${opts.prefix}-${n}`;
    const amount = rng.int(1, 50_000);
    const expiresInSeconds = rng.int(EXPIRES_IN_SECONDS.min, EXPIRES_IN_SECONDS.max);
    const content = {
      amount,
      currency: 'CNY',
      subject: `Chaos purchase ${purchase}`,
      customerId: `shopper-${n % 97}`,
      metadata: { [PURCHASE_METADATA_KEY]: purchase },
      expiresInSeconds,
    };
    const keyed = rng.chance(0.5);
    let lastFailure = 'refused';
    const giveUp = (why: string) => (lastFailure = why);
    const copies = await Promise.all(
      Array.from({ length: rng.int(1, 3) }, (_, copy) => submitCopy(rng, purchase, content, copy, keyed, giveUp)),
    );
    const orderId = copies.find((id) => id !== undefined);
    if (!orderId) {
      stats.withoutOrder += 1;
      stats.withoutOrderBecause[lastFailure] = (stats.withoutOrderBecause[lastFailure] ?? 0) + 1;
      return;
    }
    const order = { id: orderId, amount, purchase };
    const fate = rng.next();
    if (fate < DOUBLE_PAY_SHARE) {
      if (await payTwice(rng, orderId)) await refund(rng, order);
    } else if (fate < DOUBLE_PAY_SHARE + LATE_PAY_SHARE) {
      await payAfterClose(rng, orderId);
    } else if (fate < 0.75) {
      const payment = await choosePayment(rng, orderId);
      if (!payment) return;
      if (rng.chance(0.15)) await forge(rng, payment.channel, payment.outTradeNo, amount);
      // Some buyers pay after the order expired: the bank must refuse them (closed there first).
      await sleep(rng.int(0, expiresInSeconds * 1_200));
      if (await buyerPaid(payment)) await refund(rng, order);
      if (rng.chance(0.3)) {
        const live = opts.liveUrls();
        if (live.length === 0) return;
        const client = createPaycenterClient({ baseUrl: rng.pick(live), apiKey: opts.apiKey, hub: opts.hub });
        stats.waits += 1;
        await client.waitForPayment(orderId, { timeoutMs: rng.int(200, 3_000) }).catch(() => undefined);
      }
    } else if (fate < 0.85) {
      await sleep(rng.int(0, 3_000));
      await api(rng, 'POST', `/v1/orders/${orderId}/close`);
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < opts.purchases) {
      const n = next++;
      await shopper(n);
      stats.purchases += 1;
      opts.onPurchaseDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.purchases) }, worker));
  // What the log or another count already holds is read from it, not counted twice.
  stats.paidAtBank = Object.values(stats.paidAtBankBy).reduce((sum, n) => sum + n, 0);
  stats.forged = log.forged.length;
  stats.refunds.accepted = new Set(log.refunds.flatMap((a) => a.refundId ?? [])).size;
  return stats;
}
