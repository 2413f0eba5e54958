// Alipay writes amounts as yuan strings with two decimals; inside Paycenter they are integer fen.
// Converted as text, never through floating point.

/** 8888 → "88.88". */
export function fenToYuan(fen: number): string {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new Error(`not a whole, non-negative number of fen: ${fen}`);
  const text = String(fen).padStart(3, '0');
  return `${text.slice(0, -2)}.${text.slice(-2)}`;
}

/** "88.88", "88.8" or "88" → 8888; undefined for anything else (signs, exponents, 3 decimals). */
export function yuanToFen(yuan: string): number | undefined {
  const m = /^(0|[1-9]\d{0,11})(?:\.(\d{1,2}))?$/.exec(yuan);
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}
