// The reconciliation file request (txnType 76, txnSubType 01, bizType 000000) posted to
// fileTransRequest.do (channels.md §3.8): it names a day by settleDate, MMDD without a year.
import type { AcpFields } from './acp-signature.ts';
import { COMMON_RULES, checkFields, exactly, matching, present, type MessageRules } from './field-rules.ts';
import { refusal, type Refusal } from './resp-codes.ts';
import { beijingDateOf } from './wire-format.ts';

/** Leap days recur within 8 years, so a real MMDD always has a latest day within this many years back. */
const SETTLE_DATE_YEARS_BACK_MAX = 8;

const FILE_TRANS: MessageRules = {
  // No orderId: the request names a day, not a transaction.
  required: ['version', 'encoding', 'signMethod', 'txnType', 'txnSubType', 'bizType', 'accessType', 'merId', 'settleDate', 'txnTime', 'fileType'],
  rules: {
    ...COMMON_RULES,
    txnType: exactly('76'),
    txnSubType: exactly('01'),
    bizType: exactly('000000'),
    fileType: exactly('00'),
    settleDate: matching(/^\d{4}$/, 'MMDD'),
  },
};

export interface FileRequest {
  merId: string;
  /** MMDD as sent, echoed in the answer. */
  settleDate: string;
  txnTime: string;
  /** yyyy-MM-dd: the Beijing day the file covers. */
  day: string;
}

export type FileRequestParse = { ok: true; request: FileRequest } | { ok: false; refusal: Refusal };

/** `fields` without blanks; the caller has verified their signature. */
export function parseFileRequest(fields: AcpFields, now: Date): FileRequestParse {
  const malformed = checkFields(fields, FILE_TRANS);
  if (malformed) return { ok: false, refusal: malformed };
  const settleDate = present(fields, 'settleDate');
  const day = settleDay(settleDate, now);
  if (!day) return { ok: false, refusal: refusal('10', 'settleDate must be a real MMDD') };
  return { ok: true, request: { merId: present(fields, 'merId'), settleDate, txnTime: present(fields, 'txnTime'), day } };
}

/**
 * The latest Beijing day with this MMDD that is not in the future (docs/refunds-and-bills.md):
 * today's MMDD is today, tomorrow's is a year ago. Undefined when no year has such a day.
 */
export function settleDay(settleDate: string, now: Date): string | undefined {
  const today = beijingDateOf(now);
  const [month, day] = [Number(settleDate.slice(0, 2)), Number(settleDate.slice(2, 4))];
  for (let year = Number(today.slice(0, 4)), back = 0; back <= SETTLE_DATE_YEARS_BACK_MAX; year -= 1, back += 1) {
    const candidate = new Date(Date.UTC(year, month - 1, day));
    const isReal = candidate.getUTCMonth() === month - 1 && candidate.getUTCDate() === day;
    const text = candidate.toISOString().slice(0, 10);
    if (isReal && text <= today) return text;
  }
  return undefined;
}
