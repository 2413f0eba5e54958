// Daily reconciliation, decided purely: one channel's bill for one Beijing day against Paycenter's
// records of that channel. The service loads the records, calls compareBill, and acts on each
// difference as plannedAction says.
import type { AttemptState, OrderState } from './states.ts';
import type { RefundState } from './refunds.ts';

/** One line of a channel's daily bill, normalized. */
export interface BillLine {
  kind: 'payment' | 'refund';
  /** The payment's out_trade_no (for a refund: the refunded payment's, or "" when the bill names it only by channelTradeNo, as UnionPay's does). */
  outTradeNo: string;
  /** The channel's number of the payment (transaction_id, trade_no, queryId). */
  channelTradeNo: string;
  /** Refund lines only: our refund number. */
  outRefundNo?: string;
  /** Fen, positive for payments and refunds alike. */
  amountMinor: number;
  currency: string;
  /** Refund lines only: the refund's state as the bill shows it. */
  refundStatus?: 'succeeded' | 'processing' | 'failed';
}

export const DIFFERENCE_CLASSES = [
  'paid_at_channel_only',
  'unknown_trade',
  'paid_locally_only',
  'amount_mismatch',
  'refund_at_channel_only',
  'unknown_refund',
  'refund_locally_only',
  'refund_amount_mismatch',
] as const;
export type DifferenceClass = (typeof DIFFERENCE_CLASSES)[number];

export const DIFFERENCE_ACTIONS = ['query_enqueued', 'refund_query_enqueued', 'order_exception', 'alert'] as const;
export type DifferenceAction = (typeof DIFFERENCE_ACTIONS)[number];

export interface LocalAttempt {
  id: string;
  orderId: string;
  outTradeNo: string;
  amountMinor: number;
  currency: string;
  state: AttemptState;
  paidAt: Date | null;
  orderState: OrderState;
  orderPaidAttemptId: string | null;
}

export interface LocalRefund {
  id: string;
  orderId: string;
  attemptId: string;
  /** The refunded payment's. */
  outTradeNo: string;
  outRefundNo: string;
  amountMinor: number;
  currency: string;
  state: RefundState;
  createdAt: Date;
}

/**
 * One channel's records: every attempt paid in the window and every attempt and refund the bill
 * names (whatever their date), plus the refunds created in the window.
 */
export interface LocalRecords {
  /** The bill's Beijing day, [from, to). */
  window: { from: Date; to: Date };
  attempts: LocalAttempt[];
  refunds: LocalRefund[];
}

export interface ChannelSide {
  amountMinor: number;
  currency: string;
  channelTradeNo: string;
  refundStatus?: BillLine['refundStatus'];
}

export interface LocalSide {
  amountMinor: number;
  currency: string;
  /** The attempt's or the refund's state. */
  state: string;
  orderState?: OrderState;
  paidAt?: string | null;
  createdAt?: string;
}

export interface Difference {
  class: DifferenceClass;
  outTradeNo: string | null;
  outRefundNo: string | null;
  attemptId: string | null;
  refundId: string | null;
  orderId: string | null;
  channelSide: ChannelSide | null;
  localSide: LocalSide | null;
}

export function compareBill(lines: readonly BillLine[], local: LocalRecords): Difference[] {
  const attempts = new Map(local.attempts.map((a) => [a.outTradeNo, a]));
  const refunds = new Map(local.refunds.map((r) => [r.outRefundNo, r]));
  const billedTrades = new Set<string>();
  const billedRefunds = new Set<string>();
  const differences: Difference[] = [];
  for (const line of lines) {
    if (line.kind === 'payment') {
      billedTrades.add(line.outTradeNo);
      const found = comparePayment(line, attempts.get(line.outTradeNo));
      if (found) differences.push(found);
    } else {
      if (line.outRefundNo) billedRefunds.add(line.outRefundNo);
      const found = compareRefund(line, line.outRefundNo ? refunds.get(line.outRefundNo) : undefined);
      if (found) differences.push(found);
    }
  }
  for (const attempt of local.attempts) {
    if (attempt.state === 'SUCCEEDED' && inWindow(attempt.paidAt, local) && !billedTrades.has(attempt.outTradeNo)) {
      differences.push(attemptDifference('paid_locally_only', attempt, null));
    }
  }
  for (const refund of local.refunds) {
    if (refund.state === 'SUCCEEDED' && inWindow(refund.createdAt, local) && !billedRefunds.has(refund.outRefundNo)) {
      differences.push(refundDifference('refund_locally_only', refund, null));
    }
  }
  return differences;
}

function comparePayment(line: BillLine, attempt: LocalAttempt | undefined): Difference | null {
  const channelSide = channelSideOf(line);
  if (!attempt) return { ...NO_IDS, class: 'unknown_trade', outTradeNo: line.outTradeNo, channelSide, localSide: null };
  if (attempt.state !== 'SUCCEEDED') return attemptDifference('paid_at_channel_only', attempt, channelSide);
  if (!sameMoney(line, attempt)) return attemptDifference('amount_mismatch', attempt, channelSide);
  return null;
}

/**
 * WeChat's bill shows a refund as it was when the bill was made, so `processing` agrees with a
 * refund we hold PENDING or already SUCCEEDED; a PENDING refund the bill shows failed is left to
 * the refund query, which settles it.
 */
function compareRefund(line: BillLine, refund: LocalRefund | undefined): Difference | null {
  const channelSide = channelSideOf(line);
  if (!refund) {
    return { ...NO_IDS, class: 'unknown_refund', outTradeNo: line.outTradeNo || null, outRefundNo: line.outRefundNo ?? null, channelSide, localSide: null };
  }
  switch (line.refundStatus ?? 'succeeded') {
    case 'succeeded':
      if (refund.state !== 'SUCCEEDED') return refundDifference('refund_at_channel_only', refund, channelSide);
      return sameMoney(line, refund) ? null : refundDifference('refund_amount_mismatch', refund, channelSide);
    case 'processing':
      return refund.state === 'FAILED' ? refundDifference('refund_at_channel_only', refund, channelSide) : null;
    case 'failed':
      return refund.state === 'SUCCEEDED' ? refundDifference('refund_locally_only', refund, channelSide) : null;
  }
}

/** What Paycenter does about a difference; the service confirms an order_exception under the order's lock. */
export function plannedAction(d: Difference, attempt: Pick<LocalAttempt, 'orderState' | 'orderPaidAttemptId'> | undefined): DifferenceAction {
  switch (d.class) {
    case 'paid_at_channel_only':
      return 'query_enqueued';
    case 'refund_at_channel_only':
      return 'refund_query_enqueued';
    case 'paid_locally_only':
      return attempt?.orderState === 'PAID' && attempt.orderPaidAttemptId === d.attemptId ? 'order_exception' : 'alert';
    case 'unknown_trade':
    case 'amount_mismatch':
    case 'unknown_refund':
    case 'refund_locally_only':
    case 'refund_amount_mismatch':
      return 'alert';
    default: {
      const impossible: never = d.class;
      throw new Error(`unhandled difference class ${String(impossible)}`);
    }
  }
}

/** Counts by class, every class present (zero when none): the report's summary. */
export function countByClass(differences: readonly Difference[]): Record<DifferenceClass, number> {
  const counts = Object.fromEntries(DIFFERENCE_CLASSES.map((c) => [c, 0])) as Record<DifferenceClass, number>;
  for (const d of differences) counts[d.class] += 1;
  return counts;
}

const NO_IDS = { outTradeNo: null, outRefundNo: null, attemptId: null, refundId: null, orderId: null } as const;

function inWindow(at: Date | null, local: LocalRecords): boolean {
  return at !== null && at >= local.window.from && at < local.window.to;
}

function sameMoney(line: BillLine, local: { amountMinor: number; currency: string }): boolean {
  return line.amountMinor === local.amountMinor && line.currency === local.currency;
}

function channelSideOf(line: BillLine): ChannelSide {
  return {
    amountMinor: line.amountMinor,
    currency: line.currency,
    channelTradeNo: line.channelTradeNo,
    ...(line.refundStatus && { refundStatus: line.refundStatus }),
  };
}

function attemptDifference(cls: DifferenceClass, a: LocalAttempt, channelSide: ChannelSide | null): Difference {
  return {
    ...NO_IDS,
    class: cls,
    outTradeNo: a.outTradeNo,
    attemptId: a.id,
    orderId: a.orderId,
    channelSide,
    localSide: {
      amountMinor: a.amountMinor,
      currency: a.currency,
      state: a.state,
      orderState: a.orderState,
      paidAt: a.paidAt?.toISOString() ?? null,
    },
  };
}

function refundDifference(cls: DifferenceClass, r: LocalRefund, channelSide: ChannelSide | null): Difference {
  return {
    class: cls,
    outTradeNo: r.outTradeNo,
    outRefundNo: r.outRefundNo,
    attemptId: r.attemptId,
    refundId: r.id,
    orderId: r.orderId,
    channelSide,
    localSide: { amountMinor: r.amountMinor, currency: r.currency, state: r.state, createdAt: r.createdAt.toISOString() },
  };
}

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** True for a real calendar day written yyyy-MM-dd. */
export function isBillDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(text);
}

/** A bill's Beijing day as instants: [date 00:00+08, next day 00:00+08). */
export function beijingDayWindow(date: string): { from: Date; to: Date } {
  const from = new Date(`${date}T00:00:00+08:00`);
  return { from, to: new Date(from.getTime() + DAY_MS) };
}

/** The Beijing calendar day `daysAgo` days before the one holding `now`, as yyyy-MM-dd. */
export function beijingDate(now: Date, daysAgo = 0): string {
  return new Date(now.getTime() + BEIJING_OFFSET_MS - daysAgo * DAY_MS).toISOString().slice(0, 10);
}
