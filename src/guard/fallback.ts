// The Redis guard with PostgreSQL as its fallback: claims go to Redis while it answers, and to the
// submission_guard table, in the order's own transaction, while it does not.
//
// The switch back is where a duplicate could slip through: X claimed in PostgreSQL during the
// outage, its duplicate claimed in Redis (which knows nothing of X) just after — perhaps in
// another process that never saw the outage. So a process that claims in PostgreSQL alone first
// writes a shared marker, "PostgreSQL claims may be live until T" (T = now + window + lease, one
// row in submission_guard_fallback, only ever moved later), and every process whose Redis answers
// also claims in PostgreSQL, in the same transaction, while it sees T in the future. Both layers
// then see each other until the last fallback claim has expired.
//
// Reading the marker costs a query, so a process acts on a read up to MARKER_CACHE_MS old. That
// leaves a race only if a claim made in PostgreSQL alone could commit while some process still
// holds a read from before the marker became visible. It cannot: a process that writes the marker
// and cannot prove it has been visible without a gap for MARKER_CACHE_MS (its own earlier write,
// answered before that one's expiry) waits until it has, before its claim returns and so before
// the order commits. That costs the first fallback submission of each process about a second.
//
// The guarantee: once a submission has been answered 201, every submission of the same content
// that arrives after that answer and within the window is refused, in any process and whichever
// store each claim went to — except when the first claim lives only in Redis and the second
// process cannot reach Redis (a duplicate, during an outage, of an order claimed before it: Redis's
// keys cannot be read then, and are lost when Redis restarts without persistence). Simultaneous
// identical submissions give exactly one 201 unless they straddle the moment Redis stopped
// answering (one reached Redis, another could not).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.ts';
import { createPool } from '../store/db.ts';
import { claimFingerprint, extendGuardFallbackMarker, readGuardFallbackMarker } from '../store/submission-guard.ts';
import type { SubmissionGuard } from './index.ts';
import { connectRedisClaims } from './redis.ts';

/** A process acts on a marker read at most this long ago: one query per second at most, and the wait a fresh fallback pays. */
export const MARKER_CACHE_MS = 1_000;
/** How far past the window each marker write reaches: a process in fallback writes it about once per lease, not once per claim. */
export const MARKER_LEASE_MS = 2_000;
/** Bounded: a marker write that no longer covers the claim when it arrives is made again, this many times at most. */
const MARKER_ROUNDS_MAX = 3;
/** How often a process in fallback asks Redis whether it answers again. */
const REDIS_PROBE_INTERVAL_MS = 250;
/** At start-up, how long to wait for the first Redis connection before starting in fallback. */
const REDIS_CONNECT_WAIT_MS = 2_000;
/** Marker reads and writes only; see createRedisWithFallbackGuard for why not the main pool. */
const MARKER_POOL_SIZE = 2;

/** The last read of the marker, on this process's monotonic clock (performance.now()). */
export interface MarkerRead {
  /** When the read was sent: its snapshot is at least this recent. */
  sentAtMs: number;
  /** Until when PostgreSQL claims may be live, as read, rounded late; 0 when none may be. */
  activeUntilMs: number;
}

/** A read sent at `sentAtMs`, answered at `answeredAtMs` with `remainingMs` (PostgreSQL's clock, a duration). */
export function markerRead(sentAtMs: number, answeredAtMs: number, remainingMs: number): MarkerRead {
  return { sentAtMs, activeUntilMs: remainingMs > 0 ? answeredAtMs + remainingMs : 0 };
}

/**
 * Must a claim go to PostgreSQL as well ('active'), not ('inactive'), or is the last read too old
 * to say ('read')? An active marker only ever moves later, so 'active' holds until the expiry
 * read, however old the read; 'inactive' only while the read is younger than `cacheMs`.
 */
export function markerDecision(
  last: MarkerRead | undefined,
  nowMs: number,
  cacheMs = MARKER_CACHE_MS,
): 'active' | 'inactive' | 'read' {
  if (last && nowMs < last.activeUntilMs) return 'active';
  if (last && nowMs - last.sentAtMs < cacheMs) return 'inactive';
  return 'read';
}

/** What this process's own writes prove about the marker, on its monotonic clock. */
export interface MarkerCover {
  /** Visible to every reader, without a gap, since at most this time. */
  visibleSinceMs: number;
  /** In the future at least until this time (rounded early). */
  untilMs: number;
}

/**
 * After a write sent at `sentAtMs`, answered at `answeredAtMs`, which left the marker `remainingMs`
 * ahead. It committed by `answeredAtMs`; if that is before the expiry our previous write proved,
 * the marker never lapsed in between, else it is only known visible from this answer on.
 */
export function markerCoverAfterWrite(
  previous: MarkerCover | undefined,
  sentAtMs: number,
  answeredAtMs: number,
  remainingMs: number,
): MarkerCover {
  const continuous = previous !== undefined && answeredAtMs < previous.untilMs;
  return { visibleSinceMs: continuous ? previous.visibleSinceMs : answeredAtMs, untilMs: sentAtMs + remainingMs };
}

/**
 * Before a claim made in PostgreSQL alone returns: write the marker if it may expire before the
 * claim does (the claim expires at most `windowMs` after now), else wait until the marker has been
 * visible for `cacheMs`, so no reader can still hold a read from before it.
 */
export function coverStep(
  cover: MarkerCover | undefined,
  nowMs: number,
  windowMs: number,
  cacheMs = MARKER_CACHE_MS,
): { write: true } | { write: false; waitMs: number } {
  if (!cover || cover.untilMs < nowMs + windowMs) return { write: true };
  return { write: false, waitMs: Math.max(0, cover.visibleSinceMs + cacheMs - nowMs) };
}

/**
 * `databaseUrl` gets a small pool of the guard's own: the marker is written outside the order's
 * transaction while that transaction holds a connection of the main pool, so sharing that pool
 * could leave every connection waiting for one more.
 */
export async function createRedisWithFallbackGuard(redisUrl: string, databaseUrl: string, log: Logger): Promise<SubmissionGuard> {
  const guardLog = log.child({ component: 'guard' });
  const redis = connectRedisClaims(redisUrl);
  const pool = createPool(databaseUrl, MARKER_POOL_SIZE, 'paycenter-guard');
  const now = (): number => performance.now();
  let redisAnswers = true;
  let probe: NodeJS.Timeout | undefined;
  let probing = false;
  let lastRead: MarkerRead | undefined;
  let reading: Promise<void> | undefined;
  let cover: MarkerCover | undefined;
  let writing: Promise<void> | undefined;

  const fallBack = (err: unknown): void => {
    if (!redisAnswers) return;
    redisAnswers = false;
    guardLog.warn({ err, mode: 'postgres' }, 'redis does not answer: duplicate-submission claims go to PostgreSQL');
    probe = setInterval(() => void probeRedis(), REDIS_PROBE_INTERVAL_MS);
    probe.unref();
  };
  const probeRedis = async (): Promise<void> => {
    if (probing || redisAnswers) return;
    probing = true;
    const answers = await redis.ping().then(
      () => true,
      () => false,
    );
    probing = false;
    if (!answers || redisAnswers) return;
    redisAnswers = true;
    clearInterval(probe);
    guardLog.warn(
      { mode: 'redis+postgres' },
      'redis answers again: duplicate-submission claims go to Redis, and to PostgreSQL too until the claims made there have expired',
    );
  };

  const readMarker = async (): Promise<void> => {
    const sentAtMs = now();
    const remainingMs = await readGuardFallbackMarker(pool);
    lastRead = markerRead(sentAtMs, now(), remainingMs);
  };
  /** From a read at most MARKER_CACHE_MS old. */
  const postgresClaimsMayLive = async (): Promise<boolean> => {
    for (let round = 0; round < MARKER_ROUNDS_MAX; round++) {
      const decision = markerDecision(lastRead, now());
      if (decision !== 'read') return decision === 'active';
      reading ??= readMarker().finally(() => (reading = undefined));
      // A read that fails (the guard's own connections, say) must not fail the submission:
      // claiming in both is always safe.
      if (!(await reading.then(() => true, () => false))) return true;
    }
    // Each read was already too old when it arrived (a very slow database): claiming in both is always safe.
    return true;
  };

  const writeMarker = async (windowMs: number): Promise<void> => {
    const sentAtMs = now();
    const remainingMs = await extendGuardFallbackMarker(pool, windowMs + MARKER_LEASE_MS);
    const answeredAtMs = now();
    cover = markerCoverAfterWrite(cover, sentAtMs, answeredAtMs, remainingMs);
    // The write saw the latest marker, so it is a read as well.
    if (!lastRead || sentAtMs > lastRead.sentAtMs) lastRead = markerRead(sentAtMs, answeredAtMs, remainingMs);
  };
  /** Called once a claim made in PostgreSQL alone holds, before it returns (and so before its order commits). */
  const coverPostgresClaim = async (windowMs: number): Promise<void> => {
    for (let writes = 0; ; ) {
      const step = coverStep(cover, now(), windowMs);
      if (!step.write && step.waitMs === 0) return;
      if (!step.write) {
        await sleep(step.waitMs);
        continue;
      }
      if (writes++ >= MARKER_ROUNDS_MAX) {
        throw new Error(`guard fallback: the marker fell behind the claim ${MARKER_ROUNDS_MAX} times`);
      }
      writing ??= writeMarker(windowMs).finally(() => (writing = undefined));
      await writing;
    }
  };

  if (!(await redis.connected(REDIS_CONNECT_WAIT_MS))) {
    fallBack(new Error(`not connected within ${REDIS_CONNECT_WAIT_MS} ms of start-up`));
  }

  return {
    kind: 'redis',
    mode() {
      if (!redisAnswers) return 'postgres';
      return markerDecision(lastRead, now()) === 'active' ? 'redis+postgres' : 'redis';
    },
    async claim(tx, appId, fingerprint, orderId, windowMs) {
      if (redisAnswers) {
        const alsoPostgres = await postgresClaimsMayLive();
        if (alsoPostgres) {
          const holder = await claimFingerprint(tx, appId, fingerprint, orderId, windowMs);
          // A duplicate of an order claimed during the outage; our row rolls back with the refusal.
          if (holder !== orderId) return holder;
        }
        try {
          return await redis.claim(appId, fingerprint, orderId, windowMs);
        } catch (err) {
          fallBack(err);
          if (alsoPostgres) {
            await coverPostgresClaim(windowMs);
            return orderId;
          }
        }
      }
      const holder = await claimFingerprint(tx, appId, fingerprint, orderId, windowMs);
      if (holder === orderId) await coverPostgresClaim(windowMs);
      return holder;
    },
    async release(appId, fingerprint, orderId) {
      try {
        await redis.release(appId, fingerprint, orderId);
      } catch (err) {
        // While Redis does not answer, the claim was made in PostgreSQL and rolled back with its
        // order; a key written just before Redis stopped answering expires with the window.
        if (redisAnswers) throw err;
      }
    },
    async close() {
      clearInterval(probe);
      redis.close();
      await pool.end();
    },
  };
}
