// What every invariant check shares: the result's shape, and grouping problems by the id they concern.
import type { Queryable } from '../../store/db.ts';
import { INVARIANTS, type InvariantName, type InvariantResult, type Violation } from '../types.ts';

export function invariantResult(name: InvariantName, checked: number, violations: Violation[]): InvariantResult {
  return { name, title: INVARIANTS[name], checked, violations };
}

/** Runs a `SELECT count(*)::int AS n …` and returns n. */
export async function countOf(db: Queryable, sql: string, values: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(sql, values);
  return rows[0]?.n ?? 0;
}

/**
 * One violation per id, its problems joined in the order found: a reader sees everything wrong with
 * an order in one line, and the count of violations is a count of things gone wrong, not of symptoms.
 */
export class ViolationList {
  private readonly problems = new Map<string, string[]>();

  add(id: string, problem: string): void {
    const list = this.problems.get(id);
    if (list) list.push(problem);
    else this.problems.set(id, [problem]);
  }

  toArray(): Violation[] {
    return [...this.problems].map(([id, problems]) => ({ id, detail: problems.join('; ') }));
  }
}
