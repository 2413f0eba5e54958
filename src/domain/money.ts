// Money is integer minor units (fen) everywhere inside Paycenter; conversion to a channel's
// representation happens in that channel's adapter only.

export const SUPPORTED_CURRENCIES = ['CNY'] as const;
export type Currency = (typeof SUPPORTED_CURRENCIES)[number];

/** 1 fen. */
export const AMOUNT_MINOR_MIN = 1;
/** 100,000,000.00 CNY: far above any single payment the channels accept, far below 2^53. */
export const AMOUNT_MINOR_MAX = 10_000_000_000;

export function isValidAmountMinor(amount: number): boolean {
  return Number.isSafeInteger(amount) && amount >= AMOUNT_MINOR_MIN && amount <= AMOUNT_MINOR_MAX;
}
