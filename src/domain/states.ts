// Order and payment-attempt states and the only transitions allowed between them (G6).
// Every store write of a state goes through checkTransition.
import { assert } from './errors.ts';

export const ORDER_STATES = ['CREATED', 'PAYING', 'PAID', 'CLOSED', 'EXCEPTION'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

export const ATTEMPT_STATES = ['CREATING', 'PENDING', 'SUCCEEDED', 'FAILED', 'CLOSED'] as const;
export type AttemptState = (typeof ATTEMPT_STATES)[number];

export const orderTransitions: Readonly<Record<OrderState, readonly OrderState[]>> = {
  CREATED: ['PAYING', 'CLOSED'],
  PAYING: ['PAID', 'CLOSED', 'EXCEPTION'],
  EXCEPTION: ['PAID', 'CLOSED'],
  PAID: [],
  CLOSED: [],
};

// The channel's word wins over ours: an attempt we closed or saw fail that the channel later
// reports paid becomes SUCCEEDED, so the money is never unaccounted for (G1).
export const attemptTransitions: Readonly<Record<AttemptState, readonly AttemptState[]>> = {
  CREATING: ['PENDING', 'SUCCEEDED', 'FAILED', 'CLOSED'],
  PENDING: ['SUCCEEDED', 'FAILED', 'CLOSED'],
  FAILED: ['SUCCEEDED'],
  CLOSED: ['SUCCEEDED'],
  SUCCEEDED: [],
};

export const OPEN_ATTEMPT_STATES: readonly AttemptState[] = ['CREATING', 'PENDING'];

export type Entity = 'order' | 'attempt';

export function isAllowedTransition(entity: Entity, from: string | null, to: string): boolean {
  if (from === null) return entity === 'order' ? to === 'CREATED' : to === 'CREATING';
  const table: Record<string, readonly string[]> = entity === 'order' ? orderTransitions : attemptTransitions;
  return table[from]?.includes(to) ?? false;
}

export function checkTransition(entity: Entity, id: string, from: string | null, to: string): void {
  assert(isAllowedTransition(entity, from, to), `${entity} ${id}: ${from ?? '∅'} → ${to} is not an allowed transition`);
}

export function isOpenAttempt(state: AttemptState): boolean {
  return OPEN_ATTEMPT_STATES.includes(state);
}
