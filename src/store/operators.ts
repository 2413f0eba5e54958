// Console operators, their sessions and their recorded actions.
import { queryOne, type Queryable } from './db.ts';
import type { OperatorRole } from '../domain/operators.ts';

export interface OperatorRow {
  id: string;
  username: string;
  role: OperatorRole;
  passwordHash: string;
  failedSignins: number;
  lockedUntil: Date | null;
  disabledAt: Date | null;
  createdAt: Date;
}

const OPERATOR_COLUMNS = `id, username, role, password_hash AS "passwordHash", failed_signins AS "failedSignins",
  locked_until AS "lockedUntil", disabled_at AS "disabledAt", created_at AS "createdAt"`;

export async function countOperators(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ n: string }>('SELECT count(*) AS n FROM operators');
  return Number(rows[0]!.n);
}

export async function findOperatorByUsername(q: Queryable, username: string): Promise<OperatorRow | null> {
  return queryOne<OperatorRow>(q, 'find_operator_by_username', `SELECT ${OPERATOR_COLUMNS} FROM operators WHERE username = $1`, [username]);
}

export async function findOperator(q: Queryable, id: string): Promise<OperatorRow | null> {
  return queryOne<OperatorRow>(q, 'find_operator', `SELECT ${OPERATOR_COLUMNS} FROM operators WHERE id = $1`, [id]);
}

export async function listOperators(q: Queryable): Promise<OperatorRow[]> {
  const { rows } = await q.query<OperatorRow>(`SELECT ${OPERATOR_COLUMNS} FROM operators ORDER BY username`);
  return rows;
}

/** False when the username is taken (or, for the first admin, when another process made one first). */
export async function insertOperator(
  q: Queryable,
  op: { id: string; username: string; role: OperatorRole; passwordHash: string },
  onlyIfNone = false,
): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO operators (id, username, role, password_hash)
     SELECT $1, $2, $3, $4 WHERE NOT $5 OR NOT EXISTS (SELECT 1 FROM operators)
     ON CONFLICT (username) DO NOTHING`,
    [op.id, op.username, op.role, op.passwordHash, onlyIfNone],
  );
  return rowCount === 1;
}

/** The sign-in counters, locked until the transaction ends so parallel attempts count one by one. */
export async function lockOperatorSignIns(q: Queryable, id: string): Promise<{ failedSignins: number; lockedUntil: Date | null }> {
  const { rows } = await q.query<{ failedSignins: number; lockedUntil: Date | null }>(
    'SELECT failed_signins AS "failedSignins", locked_until AS "lockedUntil" FROM operators WHERE id = $1 FOR UPDATE',
    [id],
  );
  return rows[0]!;
}

export async function recordSignInResult(q: Queryable, id: string, failedSignins: number, lockedUntil: Date | null): Promise<void> {
  await q.query('UPDATE operators SET failed_signins = $2, locked_until = $3 WHERE id = $1', [id, failedSignins, lockedUntil]);
}

export async function setOperatorPassword(q: Queryable, id: string, passwordHash: string): Promise<void> {
  await q.query('UPDATE operators SET password_hash = $2, failed_signins = 0, locked_until = NULL WHERE id = $1', [id, passwordHash]);
  await q.query('DELETE FROM operator_sessions WHERE operator_id = $1', [id]);
}

export async function disableOperator(q: Queryable, id: string): Promise<void> {
  await q.query('UPDATE operators SET disabled_at = coalesce(disabled_at, now()) WHERE id = $1', [id]);
  await q.query('DELETE FROM operator_sessions WHERE operator_id = $1', [id]);
}

export interface SessionRow {
  operatorId: string;
  username: string;
  role: OperatorRole;
  csrfToken: string;
  expiresAt: Date;
}

export async function insertSession(
  q: Queryable,
  s: { tokenHash: string; operatorId: string; csrfToken: string; expiresAt: Date },
): Promise<void> {
  await q.query('INSERT INTO operator_sessions (token_hash, operator_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)', [
    s.tokenHash,
    s.operatorId,
    s.csrfToken,
    s.expiresAt,
  ]);
}

/** The live session of an enabled operator, or null. */
export async function findSession(q: Queryable, tokenHash: string): Promise<SessionRow | null> {
  return queryOne<SessionRow>(
    q,
    'find_operator_session',
    `SELECT s.operator_id AS "operatorId", o.username, o.role, s.csrf_token AS "csrfToken", s.expires_at AS "expiresAt"
     FROM operator_sessions s JOIN operators o ON o.id = s.operator_id
     WHERE s.token_hash = $1 AND s.expires_at > now() AND o.disabled_at IS NULL`,
    [tokenHash],
  );
}

export async function deleteSession(q: Queryable, tokenHash: string): Promise<void> {
  await q.query('DELETE FROM operator_sessions WHERE token_hash = $1 OR expires_at < now()', [tokenHash]);
}

export interface OperatorActionRow {
  id: string;
  operatorId: string;
  username: string;
  action: string;
  orderId: string | null;
  target: string | null;
  note: string;
  outcome: string | null;
  at: Date;
}

export async function insertOperatorAction(
  q: Queryable,
  a: { operatorId: string; username: string; action: string; orderId: string | null; target: string | null; note: string },
): Promise<string> {
  const { rows } = await q.query<{ id: string }>(
    `INSERT INTO operator_actions (operator_id, username, action, order_id, target, note)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [a.operatorId, a.username, a.action, a.orderId, a.target, a.note],
  );
  return rows[0]!.id;
}

export async function finishOperatorAction(q: Queryable, id: string, outcome: string): Promise<void> {
  await q.query('UPDATE operator_actions SET outcome = $2 WHERE id = $1', [id, outcome]);
}

export async function listOperatorActions(q: Queryable, limit: number, beforeId?: string): Promise<OperatorActionRow[]> {
  const { rows } = await q.query<OperatorActionRow>(
    `SELECT id, operator_id AS "operatorId", username, action, order_id AS "orderId", target, note, outcome, at
     FROM operator_actions WHERE $2::bigint IS NULL OR id < $2 ORDER BY id DESC LIMIT $1`,
    [limit, beforeId ?? null],
  );
  return rows;
}
