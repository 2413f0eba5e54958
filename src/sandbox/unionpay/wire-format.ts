// How UnionPay ACP spells times, identifiers and messages on the wire (channels.md §3.1).
import { randomInt } from 'node:crypto';
import type { AcpFields } from './acp-signature.ts';

const BEIJING_OFFSET_MS = 8 * 3600_000;
const ACP_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;

/** YYYYMMDDhhmmss in Beijing time, the spelling of txnTime and payTimeout. */
export function formatAcpTime(at: Date): string {
  const iso = new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString();
  return iso.slice(0, 19).replace(/[-T:]/g, '');
}

/** yyyy-MM-dd: the Beijing calendar day the instant falls in. */
export function beijingDateOf(at: Date): string {
  const t = formatAcpTime(at);
  return `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}`;
}

/** The instant a YYYYMMDDhhmmss Beijing time names; undefined unless it is a real calendar time. */
export function parseAcpTime(text: string): Date | undefined {
  const m = ACP_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const utcMs = Date.UTC(year, month - 1, day, hour, minute, second) - BEIJING_OFFSET_MS;
  // Date.UTC rolls 20240230 over into March; a time that does not round-trip is not a real time.
  return formatAcpTime(new Date(utcMs)) === text ? new Date(utcMs) : undefined;
}

export type FormParse = { ok: true; fields: AcpFields } | { ok: false; message: string };

/** An application/x-www-form-urlencoded body; a key given twice makes the message ambiguous. */
export function parseForm(body: string): FormParse {
  const fields: AcpFields = {};
  for (const [key, value] of new URLSearchParams(body)) {
    if (Object.hasOwn(fields, key)) return { ok: false, message: `field ${key} appears more than once` };
    fields[key] = value;
  }
  return { ok: true, fields };
}

/**
 * A synchronous answer: `k=v&…` with raw values, NOT URL-encoded (§3.1). Empty fields are never
 * written (§5 item 8): whether a parser keeps or drops them is unsettled.
 */
export function encodeUnencoded(fields: AcpFields): string {
  return Object.entries(fields)
    .filter(([, value]) => value !== '')
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

/** A notification: an ordinary URL-encoded form (§3.5), blank fields left out as well. */
export function encodeForm(fields: AcpFields): string {
  return new URLSearchParams(Object.entries(fields).filter(([, value]) => value !== '')).toString();
}

function randomDigits(count: number): string {
  let digits = '';
  while (digits.length < count) digits += String(randomInt(0, 100_000_000)).padStart(8, '0');
  return digits.slice(0, count);
}

/** 21 characters like UnionPay's: the Beijing time to the second, then 7 random digits. */
export function newQueryId(at: Date): string {
  return formatAcpTime(at) + randomDigits(7);
}

/** The system trace audit number: 6 digits. */
export function newTraceNo(): string {
  return randomDigits(6);
}

/** traceTime is MMDDhhmmss in Beijing time. */
export function formatTraceTime(at: Date): string {
  return formatAcpTime(at).slice(4);
}

/** settleDate is MMDD; the sandbox has no clearing cut-off, so it is the Beijing date of payment. */
export function formatSettleDate(at: Date): string {
  return formatAcpTime(at).slice(4, 8);
}

/** A masked card number as notifications carry it: first 6 and last 4 digits of a 19-digit PAN. */
export function newMaskedAccNo(): string {
  return `621700${'*'.repeat(9)}${randomDigits(4)}`;
}
