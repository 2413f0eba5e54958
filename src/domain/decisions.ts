// What a channel's answer about one attempt does to the attempt and its order. Pure: the
// services read the rows under the order's lock, call this, and apply the result.
import type { TradeStatus } from './trade-status.ts';
import type { EventType } from './events.ts';
import { isOpenAttempt, isWatchedAttempt, mayCloseOrder, type AttemptState, type OrderState } from './states.ts';

export interface OrderFacts {
  id: string;
  state: OrderState;
  amountMinor: number;
  currency: string;
  paidAttemptId: string | null;
}

export interface AttemptFacts {
  id: string;
  state: AttemptState;
  amountMinor: number;
  currency: string;
}

/** Where the answer came from; it decides nothing but is written into the audit reason. */
export type EvidenceSource = 'notification' | 'query' | 'close' | 'sync';

export interface DecisionContext {
  source: EvidenceSource;
  /** We closed (or are closing) this attempt at the channel: the merchant asked, the order expired, or the buyer switched. */
  closing: boolean;
  /**
   * The channel took the close but can only refuse payment from the trade's expiry on (UnionPay's
   * payTimeout, an Alipay QR not scanned yet): the attempt is CLOSING and stays watched until then.
   */
  closeDeferred?: boolean;
  /** The order stays open whatever this attempt's fate: the buyer is switching to another attempt. */
  keepOrderOpen?: boolean;
  /**
   * The attempt's expiry has not passed: a trade created now could still be paid, and the buyer
   * may still pay the order another way. Unset means it has passed.
   */
  beforeExpiry?: boolean;
  /** Another attempt of the order could still be paid (CREATING, PENDING or CLOSING). */
  otherWatchedAttempt: boolean;
  /** A payment on a CLOSED order reopens it as PAID instead of being refunded (a setting; refund is the default). */
  acceptLatePayment?: boolean;
}

export type Anomaly = 'amount_mismatch' | 'duplicate_payment' | 'late_payment';

export interface Decision {
  attempt?: { to: AttemptState; channelTradeNo?: string; paidAt?: Date };
  order?: { to: OrderState; paidAttemptId?: string };
  event?: EventType;
  /** Written into the transition audit. */
  reason: string;
  anomaly?: Anomaly;
  /** The attempt's payment is returned in full: the order is paid by another attempt, or was closed. */
  refund?: 'duplicate' | 'late';
  /** True when this answer settles the attempt: no further query is needed. */
  resolved: boolean;
}

const NOTHING = (reason: string): Decision => ({ reason, resolved: false });

export function decideOnTradeStatus(
  order: OrderFacts,
  attempt: AttemptFacts,
  status: TradeStatus,
  ctx: DecisionContext,
): Decision {
  switch (status.kind) {
    case 'paid':
      return decidePaid(order, attempt, status, ctx);
    case 'closed':
      return decideClosed(order, attempt, `${ctx.source}: channel reports the trade closed`, ctx);
    case 'not_found':
      // Early "not found" can mean "not created yet"; only once we have closed the trade may we
      // conclude it never existed (and now never can).
      if (ctx.closeDeferred) return decideClosing(attempt, `${ctx.source}: not created yet; the channel refuses it after its expiry`);
      // Our own create may still be on its way to the channel (a pay call in flight, or one that
      // timed out): until the expiry the trade could yet appear, so it stays watched.
      if (ctx.closing && (attempt.state === 'CREATING' || attempt.state === 'CLOSING') && ctx.beforeExpiry) {
        return decideClosing(attempt, `${ctx.source}: not found, but our create may still arrive before the expiry`);
      }
      return ctx.closing
        ? decideClosed(order, attempt, `${ctx.source}: trade never existed at the channel`, ctx)
        : NOTHING(`${ctx.source}: trade not found yet`);
    case 'not_paid':
      if (ctx.closeDeferred) return decideClosing(attempt, `${ctx.source}: not paid; the channel refuses it after its expiry`);
      return NOTHING(`${ctx.source}: not paid`);
    case 'unknown':
      return NOTHING(`${ctx.source}: unknown (${status.reason})`);
    default: {
      const impossible: never = status;
      throw new Error(`unhandled trade status ${JSON.stringify(impossible)}`);
    }
  }
}

/** A paid answer counts only for exactly the attempt's amount and currency (G5). */
export function paidAmountMatches(attempt: Pick<AttemptFacts, 'amountMinor' | 'currency'>, status: Extract<TradeStatus, { kind: 'paid' }>): boolean {
  return status.amountMinor === attempt.amountMinor && status.currency === attempt.currency;
}

function decidePaid(
  order: OrderFacts,
  attempt: AttemptFacts,
  status: Extract<TradeStatus, { kind: 'paid' }>,
  ctx: DecisionContext,
): Decision {
  if (!paidAmountMatches(attempt, status)) {
    return {
      reason: `${ctx.source}: paid ${status.amountMinor} ${status.currency} but the attempt is ${attempt.amountMinor} ${attempt.currency}`,
      anomaly: 'amount_mismatch',
      resolved: false,
    };
  }
  const reason = `${ctx.source}: channel reports paid (${status.channelTradeNo})`;
  const attemptChange =
    attempt.state === 'SUCCEEDED'
      ? undefined
      : { to: 'SUCCEEDED' as const, channelTradeNo: status.channelTradeNo, paidAt: status.paidAt };
  switch (order.state) {
    case 'PAYING':
    case 'EXCEPTION':
    case 'CREATED':
      return {
        attempt: attemptChange,
        order: { to: 'PAID', paidAttemptId: attempt.id },
        event: 'order.paid',
        reason,
        resolved: true,
      };
    case 'PAID':
      if (order.paidAttemptId === attempt.id) return { attempt: attemptChange, reason, resolved: true };
      return {
        attempt: attemptChange,
        reason: `${reason}; duplicate payment: the order is paid by another attempt, so this one is refunded`,
        anomaly: 'duplicate_payment',
        refund: attemptChange ? 'duplicate' : undefined,
        resolved: true,
      };
    case 'CLOSED':
      if (ctx.acceptLatePayment) {
        return {
          attempt: attemptChange,
          order: { to: 'PAID', paidAttemptId: attempt.id },
          event: 'order.paid',
          reason: `${reason}; late payment: the order was closed and is reopened as PAID`,
          anomaly: 'late_payment',
          resolved: true,
        };
      }
      return {
        attempt: attemptChange,
        reason: `${reason}; late payment: the order was closed, so this payment is refunded`,
        anomaly: 'late_payment',
        refund: attemptChange ? 'late' : undefined,
        resolved: true,
      };
    default: {
      const impossible: never = order.state;
      throw new Error(`unhandled order state ${String(impossible)}`);
    }
  }
}

/**
 * A trade closed at the channel can never be paid there (a payment reported later is a late
 * payment), so with no other attempt the channel could still pay the order cannot be paid either: it is CLOSED when we
 * were closing it or its time is up, whoever closed the trade and whenever the answer arrives —
 * also for an attempt closed earlier whose order was left open.
 */
function decideClosed(order: OrderFacts, attempt: AttemptFacts, reason: string, ctx: DecisionContext): Decision {
  const orderChange = closeOrderUnlessPaid(order, attempt, ctx);
  if (!isWatchedAttempt(attempt.state)) return { ...orderChange, reason, resolved: true };
  return { attempt: { to: 'CLOSED' }, ...orderChange, reason, resolved: true };
}

/**
 * The channel will refuse the trade from its expiry on but could still be paid until then: the
 * attempt is CLOSING, no longer open (another may be opened) but still queried until it is CLOSED
 * or SUCCEEDED. The order waits for that answer, so a payment made meanwhile is not a late one;
 * only a merchant's explicit close closes it at once (closeOrder).
 */
function decideClosing(attempt: AttemptFacts, reason: string): Decision {
  if (!isOpenAttempt(attempt.state)) return { reason, resolved: true };
  return { attempt: { to: 'CLOSING' }, reason, resolved: true };
}

/**
 * The order closes with its last watched trade when we were closing it (the merchant asked, or
 * its time ran out), or once its expiry has passed, whoever closed the trade. Before the expiry a
 * trade closed by a switch (seen by a concurrent query) leaves the order open for the next attempt.
 */
function closeOrderUnlessPaid(order: OrderFacts, attempt: AttemptFacts, ctx: DecisionContext): Pick<Decision, 'order' | 'event'> {
  const close =
    mayCloseOrder(order) &&
    !ctx.otherWatchedAttempt &&
    !ctx.keepOrderOpen &&
    (ctx.closing || !ctx.beforeExpiry) &&
    attempt.state !== 'SUCCEEDED';
  return close ? { order: { to: 'CLOSED' }, event: 'order.closed' } : {};
}
