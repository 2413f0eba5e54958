// When the active query runs (flow 4). Pure: takes times and settings, returns the next step.

/** The first query waits for the notification that normally arrives within seconds. */
export const FIRST_QUERY_DELAY_MS = 30_000;
const QUERY_DELAY_MAX_MS = 5 * 60_000;
/** Queries continue this long past the expiry so the close can be confirmed. */
export const EXPIRY_MARGIN_MS = 2 * 60_000;

/** 30 s, then doubling up to 5 min, until the order's expiry plus the margin is covered. */
export function defaultQueryScheduleMs(ttlMs: number): number[] {
  const delays = [FIRST_QUERY_DELAY_MS];
  let covered = FIRST_QUERY_DELAY_MS;
  let delay = FIRST_QUERY_DELAY_MS;
  while (covered < ttlMs + EXPIRY_MARGIN_MS) {
    delays.push(delay);
    covered += delay;
    delay = Math.min(delay * 2, QUERY_DELAY_MAX_MS);
  }
  return delays;
}

export interface QueryPolicy {
  /** Configured delays; undefined means the default schedule sized to the order's TTL. */
  scheduleMs: number[] | undefined;
  exceptionIntervalMs: number;
  exceptionWindowMs: number;
}

export interface QueryContext {
  /** Index of the step that just ran (0 = the first query). */
  step: number;
  now: Date;
  attemptCreatedAt: Date;
  orderExpiresAt: Date;
  orderIsException: boolean;
}

export type NextQuery =
  | { kind: 'query'; step: number; runAt: Date }
  /** The schedule ran out with the attempt unresolved: the order becomes EXCEPTION, queried slowly. */
  | { kind: 'exception'; step: number; runAt: Date }
  /** The exception window ran out too: only an operator can act now. */
  | { kind: 'stop' };

export function scheduleFor(policy: QueryPolicy, attemptCreatedAt: Date, orderExpiresAt: Date): number[] {
  return policy.scheduleMs ?? defaultQueryScheduleMs(orderExpiresAt.getTime() - attemptCreatedAt.getTime());
}

export function firstQueryAt(policy: QueryPolicy, attemptCreatedAt: Date, orderExpiresAt: Date): Date {
  const delay = scheduleFor(policy, attemptCreatedAt, orderExpiresAt)[0] ?? FIRST_QUERY_DELAY_MS;
  return clampToExpiry(new Date(attemptCreatedAt.getTime() + delay), attemptCreatedAt, orderExpiresAt);
}

export function nextQuery(policy: QueryPolicy, ctx: QueryContext): NextQuery {
  const schedule = scheduleFor(policy, ctx.attemptCreatedAt, ctx.orderExpiresAt);
  const next = ctx.step + 1;
  const now = ctx.now.getTime();
  const expired = now >= ctx.orderExpiresAt.getTime();
  const slow = () => new Date(now + policy.exceptionIntervalMs);
  if (ctx.orderIsException) {
    const windowEnd = ctx.attemptCreatedAt.getTime() + policy.exceptionWindowMs;
    return now + policy.exceptionIntervalMs <= windowEnd ? { kind: 'query', step: next, runAt: slow() } : { kind: 'stop' };
  }
  const delay = schedule[next] ?? (expired ? undefined : schedule[schedule.length - 1]);
  if (delay === undefined) return { kind: 'exception', step: next, runAt: slow() };
  return { kind: 'query', step: next, runAt: clampToExpiry(new Date(now + delay), ctx.now, ctx.orderExpiresAt) };
}

/** A step that would overshoot the expiry runs at the expiry instead, so the close is prompt. */
function clampToExpiry(runAt: Date, now: Date, expiresAt: Date): Date {
  return now < expiresAt && runAt > expiresAt ? expiresAt : runAt;
}
