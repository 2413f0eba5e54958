import type { Queryable } from './db.ts';

export async function countOrdersByState(q: Queryable): Promise<Map<string, number>> {
  const { rows } = await q.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM orders GROUP BY state');
  return new Map(rows.map((r) => [r.state, r.n]));
}

export async function countOverduePaying(q: Queryable, olderThanMs: number): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(DISTINCT o.id)::int AS n FROM orders o JOIN payment_attempts a ON a.order_id = o.id
     WHERE o.state = 'PAYING' AND a.state IN ('CREATING', 'PENDING')
       AND a.created_at < now() - $1 * interval '1 millisecond'`,
    [olderThanMs],
  );
  return rows[0]?.n ?? 0;
}
