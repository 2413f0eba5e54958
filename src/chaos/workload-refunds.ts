// Merchant refunds in a chaos run: several at once on a paid order, together often more than was
// paid, and replays of a refund number — with the same body (the same refund must answer) or with
// another amount (409 merchant_refund_no_exists). Every answer is logged; G3 checks that each
// refund Paycenter accepted is stored as answered and that the banks agree with Paycenter.
import type { Rng } from './random.ts';
import type { RefundAsk, WorkloadLog } from './types.ts';

export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- whatever Paycenter answers
}

/** The workload's API call: retried on a dead instance or a 5xx; undefined when it gave up. */
export type CallApi = (rng: Rng, method: string, path: string, body?: unknown) => Promise<Answer | undefined>;

export interface RefundStats {
  /** Refund requests, replays included. */
  asked: number;
  replays: number;
  /** Distinct refunds Paycenter answered 200 or 201 for (counted from the log at the end). */
  accepted: number;
  /** Refusals by error code (or HTTP status). */
  refusedBecause: Record<string, number>;
}

export function newRefundStats(): RefundStats {
  return { asked: 0, replays: 0, accepted: 0, refusedBecause: {} };
}

/** How long a refunding merchant waits for the order to be PAID before asking anyway (then order_not_paid). */
const PAID_WAIT_MS = 20_000;
const PAID_POLL_MS = 500;
/** Each refund is up to this share of the amount: three or four of them often exceed it. */
const REFUND_SHARE_MAX = 0.6;
const FINAL_ORDER_STATES = ['PAID', 'CLOSED'];

interface Ask {
  merchantRefundNo: string;
  body: { amount: number; merchantRefundNo: string; reason?: string };
  replay?: 'same' | 'different';
}

export async function askRefunds(
  rng: Rng,
  api: CallApi,
  order: { id: string; amount: number; purchase: string },
  log: WorkloadLog,
  stats: RefundStats,
): Promise<void> {
  await waitUntilPaid(rng, api, order.id);
  const originals: Ask[] = Array.from({ length: rng.int(2, 4) }, (_, i) => {
    const merchantRefundNo = `r-${order.purchase}-${i}`;
    const amount = rng.int(1, Math.max(1, Math.ceil(order.amount * REFUND_SHARE_MAX)));
    return { merchantRefundNo, body: { amount, merchantRefundNo, ...(rng.chance(0.5) ? { reason: 'chaos refund' } : {}) } };
  });
  const replays: Ask[] = [];
  const replayed = rng.pick(originals);
  if (rng.chance(0.5)) replays.push({ ...replayed, replay: 'same' });
  if (rng.chance(0.5)) {
    const amount = replayed.body.amount > 1 ? replayed.body.amount - 1 : 2;
    replays.push({ ...replayed, body: { ...replayed.body, amount }, replay: 'different' });
  }
  const send = (ask: Ask) => sendRefund(rng, api, order.id, ask, log, stats);
  // Replays race their originals half the time, and follow them otherwise.
  if (rng.chance(0.5)) {
    await Promise.all([...originals, ...replays].map(send));
  } else {
    await Promise.all(originals.map(send));
    await Promise.all(replays.map(send));
  }
}

async function sendRefund(rng: Rng, api: CallApi, orderId: string, ask: Ask, log: WorkloadLog, stats: RefundStats): Promise<void> {
  stats.asked += 1;
  if (ask.replay) stats.replays += 1;
  const answer = await api(rng, 'POST', `/v1/orders/${orderId}/refunds`, ask.body);
  if (!answer) return;
  const entry: RefundAsk = { orderId, merchantRefundNo: ask.merchantRefundNo, amount: ask.body.amount, replay: ask.replay, status: answer.status };
  if (answer.status === 200 || answer.status === 201) {
    entry.refundId = answer.body.id;
  } else {
    entry.code = answer.body?.error?.code ?? `HTTP ${answer.status}`;
    stats.refusedBecause[entry.code!] = (stats.refusedBecause[entry.code!] ?? 0) + 1;
  }
  log.refunds.push(entry);
}

async function waitUntilPaid(rng: Rng, api: CallApi, orderId: string): Promise<void> {
  const deadline = Date.now() + PAID_WAIT_MS;
  while (Date.now() < deadline) {
    const answer = await api(rng, 'GET', `/v1/orders/${orderId}`);
    if (FINAL_ORDER_STATES.includes(answer?.body?.state)) return;
    await new Promise((r) => setTimeout(r, PAID_POLL_MS));
  }
}
