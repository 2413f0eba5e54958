// "The system went quiet": nothing is left in flight anywhere — no order or attempt waiting for
// an answer (or closing at its channel), no refund waiting for the channel's word, no refund a bank
// is still processing, no delivery owed to the receiver, no notification the bank still means to send.
import type { Queryable } from '../store/db.ts';
import { ATTEMPT_STATES, isWatchedAttempt } from '../domain/states.ts';
import { ofEveryBank } from './banks.ts';

export interface InFlight {
  openOrders: number;
  openAttempts: number;
  pendingRefunds: number;
  bankRefundsProcessing: number;
  pendingDeliveries: number;
  pendingNotifications: number;
}

const POLL_MS = 1_000;
/** Attempts the channel may still pay, which their query jobs keep asking about (the domain's own rule). */
const WATCHED_ATTEMPT_STATES = ATTEMPT_STATES.filter(isWatchedAttempt);

export function isQuiet(f: InFlight): boolean {
  return Object.values(f).every((n) => n === 0);
}

async function readInFlight(q: Queryable): Promise<InFlight> {
  const { rows } = await q.query<InFlight>(
    `SELECT
       (SELECT count(*) FROM orders WHERE state IN ('CREATED', 'PAYING', 'EXCEPTION'))::int AS "openOrders",
       (SELECT count(*) FROM payment_attempts WHERE state = ANY($1))::int AS "openAttempts",
       (SELECT count(*) FROM refunds WHERE state = 'PENDING')::int AS "pendingRefunds",
       (SELECT count(*) FROM ${ofEveryBank('refunds', 'state')} r WHERE state = 'processing')::int AS "bankRefundsProcessing",
       (SELECT count(*) FROM deliveries WHERE state = 'pending')::int AS "pendingDeliveries",
       (SELECT count(*) FROM ${ofEveryBank('notifications', 'state')} n WHERE state = 'pending')::int AS "pendingNotifications"`,
    [WATCHED_ATTEMPT_STATES],
  );
  return rows[0]!;
}

/**
 * Resolves with what is still in flight once all of it is zero, or when `timeoutMs` has passed
 * (with the last reading: a database that stops answering must not keep the run waiting forever).
 */
export async function waitForQuiet(q: Queryable, timeoutMs: number, onPoll: (f: InFlight) => void): Promise<InFlight> {
  const deadline = Date.now() + timeoutMs;
  let last: InFlight | undefined;
  for (;;) {
    const inFlight = await readInFlight(q).catch(() => undefined);
    if (inFlight) {
      last = inFlight;
      onPoll(inFlight);
      if (isQuiet(inFlight)) return inFlight;
    }
    if (Date.now() > deadline) {
      if (last) return last;
      throw new Error(`could not read what is in flight within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
