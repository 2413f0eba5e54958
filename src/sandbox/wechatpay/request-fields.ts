// Field checks shared by the API request parsers (native order, refund), from channels.md §1.1.

const NOTIFY_URL_MAX_CHARS = 256;
/** WeChat's amounts are signed 32-bit ints of fen. */
const AMOUNT_FEN_MAX = 2_147_483_647;

export const OUT_TRADE_NO = /^[A-Za-z0-9_\-|*]{6,32}$/;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Limits count characters (code points), not UTF-8 bytes. */
export function isShortString(v: unknown, maxChars: number): v is string {
  return typeof v === 'string' && v.length > 0 && [...v].length <= maxChars;
}

/** Absolute http(s), no query string (WeChat appends nothing and forbids one). */
export function isNotifyUrl(v: unknown): v is string {
  if (typeof v !== 'string' || v.length > NOTIFY_URL_MAX_CHARS || v.includes('?') || v.includes('#')) return false;
  try {
    const url = new URL(v);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** A positive whole number of fen that fits WeChat's signed 32-bit amounts. */
export function isAmountFen(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= AMOUNT_FEN_MAX;
}
