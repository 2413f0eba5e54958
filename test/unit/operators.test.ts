// Operator rules: what each role may do, the sign-in lock-out, password and note checks.
import { describe, expect, it } from 'vitest';
import {
  afterFailedSignIn,
  isLockedOut,
  noteProblem,
  OPERATOR_ACTIONS,
  passwordProblem,
  roleMayPerform,
  SIGNIN_FAILURES_MAX,
  SIGNIN_LOCK_MS,
  type OperatorAction,
} from '../../src/domain/operators.ts';

const actions = Object.keys(OPERATOR_ACTIONS) as OperatorAction[];

describe('roleMayPerform', () => {
  it('lets a viewer do nothing', () => {
    for (const action of actions) expect(roleMayPerform('viewer', action), action).toBe(false);
  });
  it('lets an operator act on orders and events but not administer', () => {
    for (const action of ['query_channel', 'close_order', 'refund', 'redeliver_event', 'resolve_exception'] as const) {
      expect(roleMayPerform('operator', action), action).toBe(true);
    }
    for (const action of ['create_app', 'rotate_api_key', 'create_operator', 'disable_operator'] as const) {
      expect(roleMayPerform('operator', action), action).toBe(false);
    }
  });
  it('lets an admin do everything', () => {
    for (const action of actions) expect(roleMayPerform('admin', action), action).toBe(true);
  });
  it('has no action that sets an order paid', () => {
    expect(actions.filter((a) => /paid|mark/.test(a))).toEqual([]);
  });
});

describe('sign-in lock-out', () => {
  const now = new Date('2026-11-26T00:00:00Z');
  it(`locks after ${SIGNIN_FAILURES_MAX} failures, for ${SIGNIN_LOCK_MS / 60000} minutes`, () => {
    let record = { failedSignins: 0, lockedUntil: null as Date | null };
    for (let i = 1; i < SIGNIN_FAILURES_MAX; i++) {
      record = afterFailedSignIn(record, now);
      expect(record.failedSignins).toBe(i);
      expect(isLockedOut(record, now)).toBe(false);
    }
    record = afterFailedSignIn(record, now);
    expect(isLockedOut(record, now)).toBe(true);
    expect(record.lockedUntil!.getTime() - now.getTime()).toBe(SIGNIN_LOCK_MS);
    expect(isLockedOut(record, new Date(now.getTime() + SIGNIN_LOCK_MS))).toBe(false);
  });
  it('starts counting again after a lock, so the next lock needs as many failures', () => {
    let record = { failedSignins: SIGNIN_FAILURES_MAX - 1, lockedUntil: null as Date | null };
    record = afterFailedSignIn(record, now);
    expect(record.failedSignins).toBe(0);
    const later = new Date(now.getTime() + SIGNIN_LOCK_MS + 1);
    expect(isLockedOut(afterFailedSignIn(record, later), later)).toBe(false);
  });
});

describe('passwordProblem and noteProblem', () => {
  it.each([
    ['short', 'alice', /at least/],
    ['alice-is-my-password', 'alice', /username/],
    ['x'.repeat(257), 'alice', /at most/],
  ])('refuses %s', (password, username, reason) => {
    expect(passwordProblem(password, username)).toMatch(reason);
  });
  it('accepts a long password without the username', () => {
    expect(passwordProblem('correct-horse-battery-staple', 'alice')).toBeNull();
  });
  it('requires a note and bounds its length', () => {
    expect(noteProblem('  ')).toMatch(/why/);
    expect(noteProblem('x'.repeat(501))).toMatch(/under/);
    expect(noteProblem('buyer called: paid at 10:02')).toBeNull();
  });
});
