// Maps Alipay's word about one trade (a query answer or a notification) to the normalized
// TradeStatus (channels.md §2.6). Shared by queryPayment and parseNotification so both read a
// trade the same way; only the field holding the payment time differs.
import { parseBeijingTime } from '../beijing-time.ts';
import { yuanToFen } from '../yuan.ts';
import type { TradeStatus } from '../types.ts';

type TradeStatusMeaning = 'paid' | 'not_paid' | 'closed';

/** Every trade_status Alipay documents; anything else is "unknown" (ask again), never a guess. */
const TRADE_STATUSES: Readonly<Record<string, TradeStatusMeaning>> = {
  /** Paid, still refundable (also after partial refunds). */
  TRADE_SUCCESS: 'paid',
  /** Paid, no longer refundable. */
  TRADE_FINISHED: 'paid',
  /** Scanned or opened, not paid. */
  WAIT_BUYER_PAY: 'not_paid',
  /** Closed unpaid (timeout or close call), or fully refunded. */
  TRADE_CLOSED: 'closed',
};

/**
 * `paidAtField` names where the payment time is: `send_pay_date` in a query answer, `gmt_payment`
 * in a notification. Alipay leaves it out of some answers; the payment is no less a fact, so the
 * moment we learned of it stands in.
 */
export function tradeStatusFromAlipay(
  trade: Readonly<Record<string, unknown>>,
  paidAtField: 'send_pay_date' | 'gmt_payment',
  now: Date,
): TradeStatus {
  const status = trade.trade_status;
  const meaning = typeof status === 'string' && Object.hasOwn(TRADE_STATUSES, status) ? TRADE_STATUSES[status] : undefined;
  switch (meaning) {
    case 'paid':
      return paidStatus(trade, trade[paidAtField], now);
    case 'not_paid':
      return { kind: 'not_paid' };
    case 'closed':
      return { kind: 'closed' };
    case undefined:
      return { kind: 'unknown', reason: `unexpected_trade_status: ${JSON.stringify(status ?? null).slice(0, 40)}` };
    default: {
      const unreachable: never = meaning;
      throw new Error(`unhandled trade status meaning ${String(unreachable)}`);
    }
  }
}

function paidStatus(trade: Readonly<Record<string, unknown>>, paidAtText: unknown, now: Date): TradeStatus {
  const { trade_no: channelTradeNo, total_amount: totalAmount } = trade;
  if (typeof channelTradeNo !== 'string' || channelTradeNo === '') return malformed('trade_no');
  // Yuan text to integer fen exactly; an amount we cannot read is never rounded into a payment.
  const amountMinor = typeof totalAmount === 'string' ? yuanToFen(totalAmount) : undefined;
  if (amountMinor === undefined) return malformed('total_amount');
  const paidAt = (typeof paidAtText === 'string' ? parseBeijingTime(paidAtText) : undefined) ?? now;
  return { kind: 'paid', channelTradeNo, amountMinor, currency: 'CNY', paidAt };
}

function malformed(field: string): TradeStatus {
  return { kind: 'unknown', reason: `malformed_trade: paid trade without a valid ${field}` };
}
