// G6: the transition audit (orders, attempts, refunds) against the domain's transition tables and
// against the rows it describes.
import type { Queryable } from '../../store/db.ts';
import { ATTEMPT_STATES, ORDER_STATES, isAllowedTransition } from '../../domain/states.ts';
import { REFUND_STATES } from '../../domain/refunds.ts';
import type { InvariantResult } from '../types.ts';
import { countOf, invariantResult, ViolationList } from './result.ts';

/** Stands for from_state NULL (the creation row) in the allowed set, so the join stays an equality. */
const CREATION = '';

/**
 * Every (entity, from, to) the domain allows, creation rows included, enumerated through the
 * domain's own checks so the tables in states.ts and refunds.ts stay the one source of truth.
 */
function allowedTransitions(): { entity: string; from: string; to: string }[] {
  const allowed: { entity: string; from: string; to: string }[] = [];
  const entities: [string, readonly string[], (from: string | null, to: string) => boolean][] = [
    ['order', ORDER_STATES, (from, to) => isAllowedTransition('order', from, to)],
    ['attempt', ATTEMPT_STATES, (from, to) => isAllowedTransition('attempt', from, to)],
    ['refund', REFUND_STATES, (from, to) => isAllowedTransition('refund', from, to)],
  ];
  for (const [entity, states, isAllowed] of entities) {
    for (const from of [null, ...states]) {
      for (const to of states) {
        if (isAllowed(from, to)) allowed.push({ entity, from: from ?? CREATION, to });
      }
    }
  }
  return allowed;
}

interface AuditRow {
  id: number;
  entity: string;
  entity_id: string;
  from_state: string | null;
  to_state: string;
  previous_state: string | null;
  allowed: boolean;
}

/**
 * Each row is an allowed transition, each entity's rows form a chain (a row starts where the one
 * before it ended, the first is the creation row), and the last row's to_state is the entity's
 * state now; audit rows of an entity that does not exist count too.
 */
export async function checkAudit(db: Queryable): Promise<InvariantResult> {
  const checked = await countOf(db, 'SELECT count(*)::int AS n FROM transitions');
  const allowed = allowedTransitions();
  const violations = new ViolationList();

  // Ordered by id: every state change holds the row's lock, so one entity's ids follow its commits.
  const { rows } = await db.query<AuditRow>(
    `WITH allowed AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS a (entity, from_state, to_state)),
          audit AS (
            SELECT t.id, t.entity, t.entity_id, t.from_state, t.to_state,
                   lag(t.to_state) OVER (PARTITION BY t.entity, t.entity_id ORDER BY t.id) AS previous_state,
                   a.entity IS NOT NULL AS allowed
              FROM transitions t
              LEFT JOIN allowed a ON a.entity = t.entity AND a.from_state = coalesce(t.from_state, $4) AND a.to_state = t.to_state)
     SELECT * FROM audit
      WHERE NOT allowed OR from_state IS DISTINCT FROM previous_state
      ORDER BY id`,
    [allowed.map((a) => a.entity), allowed.map((a) => a.from), allowed.map((a) => a.to), CREATION],
  );
  for (const r of rows) {
    const move = `${r.entity} ${r.from_state ?? '∅'} → ${r.to_state}`;
    if (!r.allowed) violations.add(r.entity_id, `transition #${r.id}: ${move} is not in the ${r.entity} transition table`);
    if (r.from_state !== r.previous_state) {
      violations.add(
        r.entity_id,
        r.previous_state === null
          ? `transition #${r.id}: ${move} is the first audit row, not a creation row`
          : `transition #${r.id}: ${move} does not start where the previous row ended (${r.previous_state})`,
      );
    }
  }

  const { rows: drifted } = await db.query<{ entity: string; id: string; state: string | null; last_state: string | null }>(
    `WITH last AS (
       SELECT DISTINCT ON (entity, entity_id) entity, entity_id, to_state
         FROM transitions ORDER BY entity, entity_id, id DESC
     ), current AS (
       SELECT 'order'::text AS entity, id, state FROM orders
       UNION ALL
       SELECT 'attempt'::text, id, state FROM payment_attempts
       UNION ALL
       SELECT 'refund'::text, id, state FROM refunds
     )
     SELECT coalesce(c.entity, l.entity) AS entity, coalesce(c.id, l.entity_id) AS id, c.state, l.to_state AS last_state
       FROM current c FULL JOIN last l ON l.entity = c.entity AND l.entity_id = c.id
      WHERE c.state IS DISTINCT FROM l.to_state
      ORDER BY 2`,
  );
  for (const r of drifted) {
    violations.add(
      r.id,
      r.state === null
        ? `audit rows for an ${r.entity} that does not exist (last → ${r.last_state})`
        : r.last_state === null
          ? `${r.entity} is ${r.state} with no audit row`
          : `${r.entity} is ${r.state} but its last audit row says ${r.last_state}`,
    );
  }
  return invariantResult('G6', checked, violations.toArray());
}
