// The fault schedule of a chaos run: every few seconds a new mix of bank misbehaviour, a failing
// business receiver, killed and restarted Paycenter processes, Redis stopped and started, and
// PostgreSQL connections terminated from the server side. `heal` ends them all.
import type { Pool } from '../store/db.ts';
import type { Cluster } from './cluster.ts';
import type { Receiver } from './receiver.ts';
import type { Rng } from './random.ts';

export const FAULT_KINDS = {
  notifications: 'notifications dropped, duplicated, delayed and reordered (and SIGNTEST probes)',
  channel: 'channel query errors and timeouts, create timeouts after the side effect, close errors',
  receiver: 'the business receiver answers 5xx or too late',
  kill: 'SIGKILL of a random Paycenter process, restarted after a pause',
  redis: 'Redis stopped and started again (with --redis)',
  postgres: "PostgreSQL connections terminated from the server side (pg_terminate_backend)",
} as const;

export type FaultKind = keyof typeof FAULT_KINDS;

export interface FaultCounts {
  profiles: number;
  kills: number;
  redisStops: number;
  terminatedConnections: number;
}

export interface FaultSchedule {
  counts: FaultCounts;
  /** Stops injecting, undoes every fault and waits until every process is up again. */
  heal(): Promise<void>;
}

const PROFILE_EVERY_MS = { min: 2_000, max: 4_000 };
const KILL_EVERY_MS = { min: 4_000, max: 12_000 };
const DOWN_FOR_MS = { min: 500, max: 3_000 };
const REDIS_EVERY_MS = { min: 8_000, max: 15_000 };
const TERMINATE_EVERY_MS = { min: 2_000, max: 6_000 };
/** Longer than Paycenter's delivery timeout in a chaos run, so a late answer counts as none. */
const RECEIVER_LATE_MS = 2_500;

export function startFaults(
  kinds: ReadonlySet<FaultKind>,
  deps: { cluster: Cluster; receiver: Receiver; admin: Pool; database: string; rng: Rng; onError(err: unknown): void },
): FaultSchedule {
  const { cluster, receiver, admin, database, rng } = deps;
  const counts: FaultCounts = { profiles: 0, kills: 0, redisStops: 0, terminatedConnections: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let healing = false;

  /** Runs `step` now and again after a random pause, until healed. */
  const every = (range: { min: number; max: number }, step: () => Promise<void>) => {
    const loop = () => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (healing) return;
        const run = step()
          .catch(deps.onError)
          .finally(() => {
            running.delete(run);
            if (!healing) loop();
          });
        running.add(run);
      }, rng.int(range.min, range.max));
      timers.add(timer);
    };
    loop();
  };

  const sandboxFaults = (body: unknown) =>
    fetch(`${cluster.sandboxUrl}/sandbox/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((res) => {
      if (res.status !== 200) throw new Error(`sandbox refused faults: HTTP ${res.status}`);
    });

  if (kinds.has('notifications') || kinds.has('channel')) {
    every(PROFILE_EVERY_MS, async () => {
      counts.profiles += 1;
      await sandboxFaults({
        ...(kinds.has('notifications')
          ? {
              dropNotificationRate: rng.chance(0.5) ? rng.int(0, 50) / 100 : 0,
              duplicateNotifications: rng.chance(0.4),
              delayNotificationsMs: rng.chance(0.4) ? rng.int(0, 1_500) : 0,
              notificationJitterMs: rng.chance(0.5) ? rng.int(0, 3_000) : 0,
              signtestProbes: rng.chance(0.3),
            }
          : {}),
        ...(kinds.has('channel')
          ? {
              queryErrorRate: rng.chance(0.5) ? rng.int(0, 30) / 100 : 0,
              queryTimeoutRate: rng.chance(0.3) ? rng.int(0, 15) / 100 : 0,
              createTimeoutRate: rng.chance(0.3) ? rng.int(0, 15) / 100 : 0,
              closeErrorRate: rng.chance(0.3) ? rng.int(0, 30) / 100 : 0,
            }
          : {}),
      });
    });
  }
  if (kinds.has('receiver')) receiver.setFaults({ failRate: 0.15, lateRate: 0.05, lateMs: RECEIVER_LATE_MS });
  if (kinds.has('kill')) {
    every(KILL_EVERY_MS, async () => {
      const victim = rng.pick(cluster.instances.filter((i) => i.up));
      counts.kills += 1;
      await victim.kill();
      await new Promise((r) => setTimeout(r, rng.int(DOWN_FOR_MS.min, DOWN_FOR_MS.max)));
      await startPatiently(victim);
    });
  }
  if (kinds.has('redis') && cluster.redis) {
    const redis = cluster.redis;
    every(REDIS_EVERY_MS, async () => {
      counts.redisStops += 1;
      await redis.kill();
      await new Promise((r) => setTimeout(r, rng.int(DOWN_FOR_MS.min, DOWN_FOR_MS.max)));
      await redis.start();
    });
  }
  if (kinds.has('postgres')) {
    every(TERMINATE_EVERY_MS, async () => {
      const { rows } = await admin.query<{ terminated: boolean }>(
        `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name LIKE 'paycenter%'
          ORDER BY random() LIMIT $2`,
        [database, rng.int(1, 3)],
      );
      counts.terminatedConnections += rows.filter((r) => r.terminated).length;
    });
  }

  return {
    counts,
    async heal() {
      healing = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.allSettled([...running]);
      receiver.setFaults(undefined);
      await sandboxFaults({});
      await cluster.redis?.start();
      for (const instance of cluster.instances) await startPatiently(instance);
    },
  };
}

const START_TRIES = 5;

/** A restart may fail while the database is still busy with the crash; it is tried again. */
async function startPatiently(instance: { start(): Promise<void> }): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await instance.start();
    } catch (err) {
      if (i === START_TRIES) throw err;
      await new Promise((r) => setTimeout(r, 1_000 * i));
    }
  }
}
