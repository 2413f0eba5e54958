// Durable follow-up jobs, added through graphile-worker's SQL API inside the caller's
// transaction so the job exists if and only if the state change committed.
import type { Queryable } from './db.ts';

export interface JobSpec {
  task: string;
  payload: Record<string, unknown>;
  runAt?: Date;
  /** Replaces any pending job with the same key (one query chain per attempt). */
  jobKey?: string;
  maxAttempts?: number;
}

export async function addJob(q: Queryable, job: JobSpec): Promise<void> {
  await q.query({
    name: 'add_job',
    text: `SELECT graphile_worker.add_job($1::text, $2::json, run_at => $3::timestamptz, job_key => $4::text,
       max_attempts => $5::int, job_key_mode => 'replace')`,
    values: [job.task, JSON.stringify(job.payload), job.runAt ?? null, job.jobKey ?? null, job.maxAttempts ?? 25],
  });
}

/**
 * graphile-worker leaves the jobs of a process that died (SIGKILL, OOM) locked for 4 hours; an
 * active query locked that long would let an unpaid order sit past its expiry. Every process
 * unlocks, now and then, the workers whose locks are older than any task can run.
 */
export async function unlockDeadWorkers(q: Queryable, lockTimeoutMs: number): Promise<number> {
  const { rows } = await q.query<{ workers: string[] | null }>(
    `SELECT array_agg(DISTINCT locked_by) AS workers FROM graphile_worker.jobs
      WHERE locked_at < now() - $1 * interval '1 millisecond'`,
    [lockTimeoutMs],
  );
  const workers = rows[0]?.workers ?? [];
  if (workers.length > 0) await q.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [workers]);
  return workers.length;
}
