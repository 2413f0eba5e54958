// The duplicate guard with Redis configured: Redis turns a duplicate away before any database
// work, and the claim row in PostgreSQL, written in the order's own transaction, is the authority.
//
// Why both: a Redis claim alone is lost when Redis restarts empty and cannot be read while Redis
// does not answer, so a guard that claimed in Redis *or* PostgreSQL let a duplicate through when
// two copies straddled the moment Redis stopped answering (`paycenter chaos` found it). With the
// row always written, a copy that cannot reach Redis conflicts with the other's row in PostgreSQL
// (waiting for its transaction if need be), whatever Redis knows, forgets or cannot say. Redis
// stays a fast first answer for duplicates: one whose holder's order is committed is refused after
// a primary-key read, without a write; any other answer is left to PostgreSQL.
import type { Logger } from '../logger.ts';
import { findOrder } from '../store/orders.ts';
import { claimFingerprint } from '../store/submission-guard.ts';
import type { GuardMode, SubmissionGuard } from './index.ts';
import { connectRedisClaims } from './redis.ts';

export function createRedisFirstGuard(redisUrl: string, log: Logger): SubmissionGuard {
  const redis = connectRedisClaims(redisUrl);
  let mode: GuardMode = 'redis';
  const setMode = (next: GuardMode, err?: unknown) => {
    if (next === mode) return;
    mode = next;
    if (next === 'postgres') log.warn({ err }, 'Redis does not answer: duplicate claims go to PostgreSQL alone until it does');
    else log.warn('Redis answers again: duplicates are turned away by Redis first');
  };
  return {
    kind: 'redis',
    mode: () => mode,
    async claim(tx, appId, fingerprint, orderId, windowMs) {
      try {
        const holder = await redis.claim(appId, fingerprint, orderId, windowMs);
        setMode('redis');
        // A holder Redis names may be in flight, or gone (Redis outlived it, or restarted and was
        // refilled): only a committed order turns the copy away here.
        if (holder !== orderId && (await findOrder(tx, appId, holder)) !== null) return holder;
      } catch (err) {
        setMode('postgres', err);
      }
      return claimFingerprint(tx, appId, fingerprint, orderId, windowMs);
    },
    async release(appId, fingerprint, orderId) {
      // The PostgreSQL row rolled back with the order; a Redis key left behind names an order that
      // never commits, which claim() sees through.
      await redis.release(appId, fingerprint, orderId).catch(() => undefined);
    },
    async close() {
      redis.close();
    },
  };
}
