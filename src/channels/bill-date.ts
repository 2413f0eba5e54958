// The day a bill is asked for, checked the same way for every channel before any call: a date
// that is not a real yyyy-MM-dd day is unknown, and a day after today in Beijing (where every
// channel's bill day is cut) has no bill yet.
import { beijingDate, isBillDate } from '../domain/reconciliation.ts';
import type { BillResult } from './types.ts';

type Refusal = Extract<BillResult, { kind: 'unknown' | 'not_ready' }>;

/** Undefined when `date` may be asked for; else the result to give without asking. */
export function checkBillDate(date: string, now: Date): Refusal | undefined {
  if (typeof date !== 'string' || !isBillDate(date)) {
    return { kind: 'unknown', reason: `invalid_bill_date: ${JSON.stringify(String(date)).slice(0, 40)} is not a yyyy-MM-dd date` };
  }
  const today = beijingDate(now);
  return date > today ? { kind: 'not_ready', reason: `bill_date ${date} is after today (${today}, Beijing)` } : undefined;
}
