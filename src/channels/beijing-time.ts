// Alipay and UnionPay write times as Beijing wall-clock time (UTC+8, no daylight saving) with no
// zone in the text; these convert at the channel boundary and nowhere else.

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

function beijingParts(date: Date): string[] {
  const iso = new Date(date.getTime() + BEIJING_OFFSET_MS).toISOString();
  return [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10), iso.slice(11, 13), iso.slice(14, 16), iso.slice(17, 19)];
}

/** `yyyy-MM-dd HH:mm:ss` (Alipay's timestamp, time_expire, gmt_payment). */
export function formatBeijingDashed(date: Date): string {
  const [y, mo, d, h, mi, s] = beijingParts(date);
  return `${y}-${mo}-${d} ${h}:${mi}:${s}`;
}

/** `YYYYMMDDhhmmss` (UnionPay's txnTime, payTimeout). */
export function formatBeijingCompact(date: Date): string {
  return beijingParts(date).join('');
}

/** Reads either form back; undefined for anything else (including impossible dates). */
export function parseBeijingTime(text: string): Date | undefined {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})[ ]?(\d{2}):?(\d{2}):?(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(utc);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return undefined;
  }
  return new Date(utc - BEIJING_OFFSET_MS);
}
