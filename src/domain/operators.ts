// Console operators: roles, what each role may do, sign-in lock-out and session lifetime.
// Pure: the services hash passwords and keep sessions; these rules decide.

export const OPERATOR_ROLES = ['viewer', 'operator', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/**
 * Every operator action. None sets an order PAID: an operator can ask the channel (query), never
 * overrule it; a payment is recorded only on the channel's word.
 */
export const OPERATOR_ACTIONS = {
  query_channel: 'operator',
  close_order: 'operator',
  refund: 'operator',
  redeliver_event: 'operator',
  resolve_exception: 'operator',
  run_reconciliation: 'operator',
  create_app: 'admin',
  rotate_api_key: 'admin',
  add_webhook_endpoint: 'admin',
  remove_webhook_endpoint: 'admin',
  create_operator: 'admin',
  reset_operator_password: 'admin',
  disable_operator: 'admin',
} as const satisfies Record<string, OperatorRole>;
export type OperatorAction = keyof typeof OPERATOR_ACTIONS;

const RANK: Record<OperatorRole, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleMayPerform(role: OperatorRole, action: OperatorAction): boolean {
  return RANK[role] >= RANK[OPERATOR_ACTIONS[action]];
}

export function isOperatorRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (OPERATOR_ROLES as readonly string[]).includes(value);
}

export const SIGNIN_FAILURES_MAX = 5;
export const SIGNIN_LOCK_MS = 15 * 60 * 1000;
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
export const PASSWORD_LENGTH_MIN = 12;
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{1,62}$/;

export interface SignInRecord {
  failedSignins: number;
  lockedUntil: Date | null;
}

export function isLockedOut(record: SignInRecord, now: Date): boolean {
  return record.lockedUntil !== null && record.lockedUntil > now;
}

/** After a wrong password: the count to store, and the lock to set once it reaches the maximum. */
export function afterFailedSignIn(record: SignInRecord, now: Date): SignInRecord {
  const failedSignins = record.failedSignins + 1;
  return {
    failedSignins: failedSignins >= SIGNIN_FAILURES_MAX ? 0 : failedSignins,
    lockedUntil: failedSignins >= SIGNIN_FAILURES_MAX ? new Date(now.getTime() + SIGNIN_LOCK_MS) : record.lockedUntil,
  };
}

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string, username: string): string | null {
  if (password.length < PASSWORD_LENGTH_MIN) return `Use at least ${PASSWORD_LENGTH_MIN} characters.`;
  if (password.length > 256) return 'Use at most 256 characters.';
  if (password.toLowerCase().includes(username.toLowerCase())) return 'Do not use the username in the password.';
  return null;
}

/** An operator's note is mandatory ("why"); kept short enough to read in a timeline. */
export const NOTE_LENGTH_MAX = 500;
export function noteProblem(note: string): string | null {
  if (note.trim().length === 0) return 'Say why: the note is recorded with the action.';
  if (note.length > NOTE_LENGTH_MAX) return `Keep the note under ${NOTE_LENGTH_MAX} characters.`;
  return null;
}
