// When a failed delivery is retried, when it is dead, and how Retry-After bends the schedule.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DELIVERY_SCHEDULE_MS,
  DELIVERY_JITTER,
  RETRY_AFTER_MAX_MS,
  nextDelivery,
  parseRetryAfter,
} from '../../src/domain/delivery-schedule.ts';

describe('nextDelivery', () => {
  const schedule = [1_000, 10_000];

  it('walks the schedule, then gives up', () => {
    expect(nextDelivery(0, schedule, 0.5)).toEqual({ kind: 'retry', step: 1, delayMs: 1_000 });
    expect(nextDelivery(1, schedule, 0.5)).toEqual({ kind: 'retry', step: 2, delayMs: 10_000 });
    expect(nextDelivery(2, schedule, 0.5)).toEqual({ kind: 'dead' });
  });

  it('jitters each delay within ±20 %', () => {
    expect(nextDelivery(1, schedule, 0)).toMatchObject({ delayMs: 10_000 * (1 - DELIVERY_JITTER) });
    expect(nextDelivery(1, schedule, 0.999999)).toMatchObject({ delayMs: Math.round(10_000 * (1 + DELIVERY_JITTER * 0.999998)) });
  });

  it('honours a Retry-After longer than the schedule, up to a day, and ignores a shorter one', () => {
    expect(nextDelivery(0, schedule, 0.5, 60_000)).toMatchObject({ delayMs: 60_000 });
    expect(nextDelivery(0, schedule, 0.5, 10)).toMatchObject({ delayMs: 1_000 });
    expect(nextDelivery(0, schedule, 0.5, 30 * 86_400_000)).toMatchObject({ delayMs: RETRY_AFTER_MAX_MS });
    expect(nextDelivery(2, schedule, 0.5, 60_000)).toEqual({ kind: 'dead' });
  });

  it('spreads the default schedule over about three days in twelve attempts', () => {
    const totalMs = DEFAULT_DELIVERY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    expect(DEFAULT_DELIVERY_SCHEDULE_MS.length + 1).toBe(12);
    expect(totalMs / 3_600_000).toBeGreaterThan(70);
    expect(totalMs / 3_600_000).toBeLessThan(72);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-25T10:00:00Z');

  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 10:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 09:00:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});
