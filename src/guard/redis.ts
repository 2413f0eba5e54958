// Fingerprint claims in Redis (`SET NX PX`), on a connection that fails fast: a submission must
// not wait for a Redis that does not answer (src/guard/redis-first.ts claims in PostgreSQL anyway).
import { Redis } from 'ioredis';

/** Deletes the key only while it still names our order (never someone else's newer claim). */
const COMPARE_AND_DELETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
/** Bounded: the key can only vanish between SET and GET by expiring, which a retry settles. */
const CLAIM_TRIES_MAX = 3;
/**
 * A Redis command not answered within this fails, and PostgreSQL alone decides. A healthy
 * Redis answers in well under a millisecond; 300 ms tolerates a loaded one and keeps a
 * submission that meets a hung Redis prompt.
 */
const REDIS_COMMAND_TIMEOUT_MS = 300;
/** A lost connection is retried this often at most, so a restarted Redis is noticed within about a second. */
const REDIS_RECONNECT_DELAY_MS_MAX = 1_000;

export interface RedisClaims {
  /** Claims `fingerprint` for `orderId` for `windowMs`; returns the order id holding it. Throws when Redis does not answer. */
  claim(appId: string, fingerprint: string, orderId: string, windowMs: number): Promise<string>;
  /** Deletes the claim only while it still names `orderId`. */
  release(appId: string, fingerprint: string, orderId: string): Promise<void>;
  close(): void;
}

export function connectRedisClaims(url: string): RedisClaims {
  const redis = new Redis(url, {
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    // While disconnected, commands fail at once instead of queueing for a reconnect, and a
    // command cut off by a lost connection is never sent again later: a SET replayed after the
    // claim went to PostgreSQL could name an order that was rolled back.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempts: number) => Math.min(attempts * 100, REDIS_RECONNECT_DELAY_MS_MAX),
  });
  // Connection errors surface as failed commands; the event itself must not crash the process.
  redis.on('error', () => undefined);
  const keyOf = (appId: string, fingerprint: string) => `paycenter:submission:${appId}:${fingerprint}`;
  return {
    async claim(appId, fingerprint, orderId, windowMs) {
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
    close() {
      redis.disconnect();
    },
  };
}
