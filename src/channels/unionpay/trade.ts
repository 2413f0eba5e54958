// Reads a paid UnionPay consume (query answer or notification, channels.md §3.5–§3.6) into the
// normalized `paid` status. Shared so both paths read a payment the same way.
import { parseBeijingTime } from '../beijing-time.ts';
import type { TradeStatus } from '../types.ts';
import type { Fields } from './sign.ts';

/** `00` success and `A6` "defective success" (有缺陷的成功): both mean the buyer paid. */
export function isSuccessCode(code: string | undefined): boolean {
  return code === '00' || code === 'A6';
}

export const CURRENCY_CODE_CNY = '156';

/** 156 is CNY; any other code is passed on as is, so the amount check against our records refuses it. */
export function currencyOf(currencyCode: string): string {
  return currencyCode === CURRENCY_CODE_CNY ? 'CNY' : `currencyCode:${currencyCode}`;
}

/** At most 15 digits, so every value is below 2^53 and exact as a number. */
const FEN = /^(0|[1-9]\d{0,14})$/;
const TRACE_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;
const DAY_MS = 86_400_000;

/** `txnAmt`: whole fen as digits, nothing else (no sign, no decimal point). */
export function readFen(text: string | undefined): number | undefined {
  return text !== undefined && FEN.test(text) ? Number(text) : undefined;
}

/**
 * traceTime (`MMDDhhmmss`, Beijing) is when UnionPay processed the payment but carries no year;
 * txnTime (the order's creation, `YYYYMMDDhhmmss`) supplies it. A trace time more than a day
 * before txnTime must be in the next year (an order made on 31 December, paid on 1 January).
 * Undefined when either is missing or impossible.
 */
export function paidAtOf(txnTime: string | undefined, traceTime: string | undefined): Date | undefined {
  const created = txnTime === undefined ? undefined : parseBeijingTime(txnTime);
  const m = traceTime === undefined ? undefined : TRACE_TIME.exec(traceTime);
  if (!created || !m || txnTime === undefined) return undefined;
  const year = Number(txnTime.slice(0, 4));
  const at = (y: number) => parseBeijingTime(`${y}${m.slice(1).join('')}`);
  const sameYear = at(year);
  if (sameYear && sameYear.getTime() >= created.getTime() - DAY_MS) return sameYear;
  return at(year + 1);
}

/**
 * The paid status, or `unknown` when a field a payment must have is missing or malformed: a
 * success we cannot read is asked again, never guessed.
 */
export function paidStatusOf(fields: Fields, now: Date): TradeStatus {
  const channelTradeNo = fields.get('queryId');
  if (channelTradeNo === undefined || channelTradeNo.trim() === '') return malformed('queryId');
  const amountMinor = readFen(fields.get('txnAmt'));
  if (amountMinor === undefined) return malformed('txnAmt');
  // Absent means CNY: our consume sends 156 and the gateway echoes it.
  const currency = currencyOf(fields.get('currencyCode') ?? CURRENCY_CODE_CNY);
  const paidAt = paidAtOf(fields.get('txnTime'), fields.get('traceTime')) ?? now;
  return { kind: 'paid', channelTradeNo, amountMinor, currency, paidAt };
}

function malformed(field: string): TradeStatus {
  return { kind: 'unknown', reason: `unionpay malformed_answer: success without a valid ${field}` };
}
