// When a failed delivery is tried again, and when it is given up (dead). Pure.

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Delays between attempts: 12 attempts over about three days (2 d 22 h 43 min without jitter),
 * so a receiver down for a long weekend still gets everything.
 */
export const DEFAULT_DELIVERY_SCHEDULE_MS = [
  5 * SECOND,
  30 * SECOND,
  2 * MINUTE,
  10 * MINUTE,
  30 * MINUTE,
  1 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  24 * HOUR,
  24 * HOUR,
];

/** A receiver's Retry-After is honoured up to a day: it cannot park an event for longer. */
export const RETRY_AFTER_MAX_MS = 24 * HOUR;

/** ±20 %: receivers coming back from an outage are not hit by every retry in the same instant. */
export const DELIVERY_JITTER = 0.2;

export type NextDelivery = { kind: 'retry'; step: number; delayMs: number } | { kind: 'dead' };

/**
 * After a failed attempt made at schedule `step` (0 = the first attempt): the next attempt's
 * step and delay, or dead when the schedule is used up. A receiver's Retry-After is honoured when
 * it asks for more time than the schedule would give, up to RETRY_AFTER_MAX_MS.
 */
export function nextDelivery(step: number, scheduleMs: readonly number[], random: number, retryAfterMs?: number): NextDelivery {
  const base = scheduleMs[step];
  if (base === undefined) return { kind: 'dead' };
  const jittered = Math.round(base * (1 - DELIVERY_JITTER + 2 * DELIVERY_JITTER * random));
  const asked = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, RETRY_AFTER_MAX_MS);
  return { kind: 'retry', step: step + 1, delayMs: Math.max(jittered, asked) };
}

/** Retry-After as seconds or an HTTP date, in ms from `nowMs`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * SECOND;
  // An HTTP date names a weekday and a month; Date.parse alone would take "-5" as a year.
  if (!/[A-Za-z]{3}/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
