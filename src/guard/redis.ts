import { Redis } from 'ioredis';
import type { SubmissionGuard } from './index.ts';

/** Deletes the key only while it still names our order (never someone else's newer claim). */
const COMPARE_AND_DELETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
/** Bounded: the key can only vanish between SET and GET by expiring, which a retry settles. */
const CLAIM_TRIES_MAX = 3;

export function createRedisGuard(url: string): SubmissionGuard {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  redis.on('error', () => undefined);
  const keyOf = (appId: string, fingerprint: string) => `paycenter:submission:${appId}:${fingerprint}`;
  return {
    kind: 'redis',
    async claim(_tx, appId, fingerprint, orderId, windowMs) {
      const key = keyOf(appId, fingerprint);
      for (let i = 0; i < CLAIM_TRIES_MAX; i++) {
        if ((await redis.set(key, orderId, 'PX', windowMs, 'NX')) === 'OK') return orderId;
        const holder = await redis.get(key);
        if (holder !== null) return holder;
      }
      throw new Error(`redis guard: could not claim or read ${key}`);
    },
    async release(appId, fingerprint, orderId) {
      await redis.eval(COMPARE_AND_DELETE, 1, keyOf(appId, fingerprint), orderId);
    },
    async close() {
      redis.disconnect();
    },
  };
}
