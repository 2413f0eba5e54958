// Order and payment-attempt states and the only transitions allowed between them (G6).
// Every store write of a state goes through checkTransition.
import { assert } from './errors.ts';
import { refundTransitions } from './refunds.ts';

export const ORDER_STATES = ['CREATED', 'PAYING', 'PAID', 'CLOSED', 'EXCEPTION'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

export const ATTEMPT_STATES = ['CREATING', 'PENDING', 'CLOSING', 'SUCCEEDED', 'FAILED', 'CLOSED'] as const;
export type AttemptState = (typeof ATTEMPT_STATES)[number];

export const orderTransitions: Readonly<Record<OrderState, readonly OrderState[]>> = {
  CREATED: ['PAYING', 'CLOSED'],
  PAYING: ['PAID', 'CLOSED', 'EXCEPTION'],
  EXCEPTION: ['PAID', 'CLOSED'],
  // Only the daily reconciliation: paid here but missing from the channel's bill, for a person to check.
  PAID: ['EXCEPTION'],
  // Only when late payments are accepted instead of refunded (PAYCENTER_LATE_PAYMENTS=accept).
  CLOSED: ['PAID'],
};

// The channel's word wins over ours: an attempt we closed or saw fail that the channel later
// reports paid becomes SUCCEEDED, so the money is never unaccounted for (G1).
// CLOSING: we asked the channel to close, and it refuses payment only from the trade's expiry on.
export const attemptTransitions: Readonly<Record<AttemptState, readonly AttemptState[]>> = {
  CREATING: ['PENDING', 'CLOSING', 'SUCCEEDED', 'FAILED', 'CLOSED'],
  PENDING: ['CLOSING', 'SUCCEEDED', 'FAILED', 'CLOSED'],
  CLOSING: ['SUCCEEDED', 'CLOSED'],
  FAILED: ['SUCCEEDED'],
  CLOSED: ['SUCCEEDED'],
  SUCCEEDED: [],
};

export const OPEN_ATTEMPT_STATES: readonly AttemptState[] = ['CREATING', 'PENDING'];

export type Entity = 'order' | 'attempt' | 'refund';

const TRANSITIONS: Record<Entity, { created: string; table: Readonly<Record<string, readonly string[]>> }> = {
  order: { created: 'CREATED', table: orderTransitions },
  attempt: { created: 'CREATING', table: attemptTransitions },
  refund: { created: 'PENDING', table: refundTransitions },
};

export function isAllowedTransition(entity: Entity, from: string | null, to: string): boolean {
  const { created, table } = TRANSITIONS[entity];
  if (from === null) return to === created;
  return table[from]?.includes(to) ?? false;
}

export function checkTransition(entity: Entity, id: string, from: string | null, to: string): void {
  assert(isAllowedTransition(entity, from, to), `${entity} ${id}: ${from ?? '∅'} → ${to} is not an allowed transition`);
}

/**
 * An order may be closed only if its state allows it and it was never paid: an order the daily
 * reconciliation moved from PAID to EXCEPTION still holds the buyer's money, so no expiry, sweep
 * or closed trade may close it; only the channel's word (PAID again) or an operator settles it.
 */
export function mayCloseOrder(order: { state: OrderState; paidAttemptId: string | null }): boolean {
  return isAllowedTransition('order', order.state, 'CLOSED') && order.paidAttemptId === null;
}

export function isOpenAttempt(state: AttemptState): boolean {
  return OPEN_ATTEMPT_STATES.includes(state);
}

/** Open, or CLOSING: the channel may still take a payment for it, so it is still queried. */
export function isWatchedAttempt(state: AttemptState): boolean {
  return isOpenAttempt(state) || state === 'CLOSING';
}
