// Maps a WeChat Pay `Transaction` object (query answer or decrypted notification resource) to the
// normalized TradeStatus (channels.md §1.6). Shared by queryPayment and parseNotification so both
// read a trade the same way.
import type { TradeStatus } from '../types.ts';

type TradeStateMeaning = 'paid' | 'not_paid' | 'closed';

/** Every trade_state WeChat documents; anything else is "unknown" (ask again), never a guess. */
const TRADE_STATES: Readonly<Record<string, TradeStateMeaning>> = {
  SUCCESS: 'paid',
  /** A refund was started on a paid order: for the payment it is still paid. */
  REFUND: 'paid',
  NOTPAY: 'not_paid',
  /** Micropay only: the buyer is entering a password. */
  USERPAYING: 'not_paid',
  CLOSED: 'closed',
  REVOKED: 'closed',
  PAYERROR: 'closed',
};

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** WeChat's times (success_time, create_time): RFC 3339 with an offset; undefined for anything else. */
export function parseRfc3339(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !RFC3339.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** WeChat's amounts are whole fen: a float or a numeric string is malformed, not something to round. */
export function isFen(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A JSON object, or undefined for anything else (not JSON, an array, a string). */
export function readJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function tradeStatusFromTransaction(tx: unknown): TradeStatus {
  if (!isRecord(tx)) return { kind: 'unknown', reason: 'malformed_transaction: not an object' };
  const state = tx.trade_state;
  const meaning = typeof state === 'string' && Object.hasOwn(TRADE_STATES, state) ? TRADE_STATES[state] : undefined;
  switch (meaning) {
    case 'paid':
      return paidStatus(tx);
    case 'not_paid':
      return { kind: 'not_paid' };
    case 'closed':
      return { kind: 'closed' };
    case undefined:
      return { kind: 'unknown', reason: `unexpected_trade_state: ${JSON.stringify(state ?? null).slice(0, 40)}` };
    default: {
      const unreachable: never = meaning;
      throw new Error(`unhandled trade state meaning ${String(unreachable)}`);
    }
  }
}

function paidStatus(tx: Record<string, unknown>): TradeStatus {
  const { transaction_id: channelTradeNo, amount, success_time: successTime } = tx;
  if (typeof channelTradeNo !== 'string' || channelTradeNo === '') return malformed('transaction_id');
  if (!isRecord(amount)) return malformed('amount');
  const total = amount.total;
  if (!isFen(total)) return malformed('amount.total');
  if (typeof amount.currency !== 'string' || amount.currency === '') return malformed('amount.currency');
  const paidAt = parseRfc3339(successTime);
  if (paidAt === undefined) return malformed('success_time');
  return { kind: 'paid', channelTradeNo, amountMinor: total, currency: amount.currency, paidAt };
}

function malformed(field: string): TradeStatus {
  return { kind: 'unknown', reason: `malformed_transaction: paid trade without a valid ${field}` };
}
