// Field checks of ACP request messages (channels.md §3.1, §3.4), as tables: a missing required
// field is respCode 13, a malformed one 10.
import type { AcpFields } from './acp-signature.ts';
import { refusal, type Refusal } from './resp-codes.ts';
import { parseAcpTime } from './wire-format.ts';

/** Why the value is malformed, or undefined when it is fine. */
export type FieldRule = (value: string) => string | undefined;

/** The rules of every field; those named in `required` must be present. Fields not listed pass unchecked. */
export interface MessageRules {
  required: readonly string[];
  rules: Readonly<Record<string, FieldRule>>;
}

export function checkFields(fields: AcpFields, message: MessageRules): Refusal | undefined {
  const missing = message.required.filter((name) => fields[name] === undefined);
  if (missing.length > 0) return refusal('13', `missing ${missing.join(', ')}`);
  for (const [name, rule] of Object.entries(message.rules)) {
    const value = fields[name];
    const problem = value === undefined ? undefined : rule(value);
    if (problem) return refusal('10', `${name} ${problem}`);
  }
  return undefined;
}

/** A field checkFields has already required: its absence here is a bug, not a bad request. */
export function present(fields: AcpFields, name: string): string {
  const value = fields[name];
  if (value === undefined) throw new Error(`field ${name} passed the required check yet is missing`);
  return value;
}

export function exactly(...allowed: string[]): FieldRule {
  return (value) => (allowed.includes(value) ? undefined : `must be ${allowed.join(' or ')}`);
}

export function matching(pattern: RegExp, description: string): FieldRule {
  return (value) => (pattern.test(value) ? undefined : `must be ${description}`);
}

export const acpTime: FieldRule = (value) => (parseAcpTime(value) ? undefined : 'must be a real YYYYMMDDhhmmss Beijing time');

/** The instant of a time the acpTime rule has passed. */
export function acpTimeOf(value: string): Date {
  const at = parseAcpTime(value);
  if (!at) throw new Error(`${value} passed the acpTime rule yet does not parse`);
  return at;
}

/** backUrl and frontUrl: absolute http(s) URLs (http for tests on a laptop). */
export const httpUrl: FieldRule = (value) => {
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:' ? undefined : 'must be an http(s) URL';
  } catch {
    return 'must be an absolute URL';
  }
};

/** The ledger keeps fen in a 32-bit integer, like the other channels' ledgers; more is respCode 33. */
const TXN_AMT_MAX = 2_147_483_647;
/**
 * txnTime "must be the current Beijing time": the sandbox accepts 15 minutes either way, the
 * payTimeout the brief recommends, so a form older than its recommended life is refused.
 */
const TXN_TIME_SKEW_MS_MAX = 15 * 60_000;

export const TXN_AMT = matching(/^[1-9]\d{0,11}$/, 'a positive integer number of fen without leading zeros');

// Synchronous answers are not URL-encoded (§3.1): a bare & or bracket would make an echoed
// reqReserved unparseable, which is why UnionPay asks for base64. A value's "=" is harmless (the
// first "=" ends the key), so base64 padding passes.
export const REQ_RESERVED = matching(/^[^&{}[\]]*$/, 'free of & { } [ ] (base64-encode it)');

/** respCode 33 for a well-formed txnAmt above what the ledger keeps. */
export function amountRefusal(amountFen: number): Refusal | undefined {
  return amountFen > TXN_AMT_MAX ? refusal('33', `txnAmt above ${TXN_AMT_MAX} fen`) : undefined;
}

/** respCode 39 for a txnTime (already checked by the acpTime rule) too far from the bank's clock. */
export function txnTimeRefusal(txnTime: string, now: Date): Refusal | undefined {
  if (Math.abs(acpTimeOf(txnTime).getTime() - now.getTime()) <= TXN_TIME_SKEW_MS_MAX) return undefined;
  return refusal('39', `txnTime is more than ${TXN_TIME_SKEW_MS_MAX / 60_000} minutes from the current Beijing time`);
}

export const MER_ID = /^\d{15}$/;
// 8–40 alphanumerics: no "-" or "_", unlike WeChat's out_trade_no.
export const ORDER_ID = /^[0-9A-Za-z]{8,40}$/;

/** The fields every request of this gateway carries, whatever the transaction. */
export const COMMON_RULES: Readonly<Record<string, FieldRule>> = {
  version: exactly('5.1.0'),
  encoding: exactly('UTF-8', 'utf-8'),
  signMethod: exactly('01'),
  accessType: exactly('0'),
  merId: matching(MER_ID, '15 digits'),
  orderId: matching(ORDER_ID, '8-40 letters or digits'),
  txnTime: acpTime,
};

export const COMMON_REQUIRED = ['version', 'encoding', 'signMethod', 'txnType', 'txnSubType', 'bizType', 'accessType', 'merId', 'orderId', 'txnTime'];
