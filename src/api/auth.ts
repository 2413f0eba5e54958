// Bearer API keys. Keys are looked up by their SHA-256; a short cache keeps the hot path off the database.
import type { FastifyRequest } from 'fastify';
import { findAppByKeyHash, type AppRow } from '../store/apps.ts';
import { sha256 } from '../domain/fingerprint.ts';
import { PaycenterError } from '../domain/errors.ts';
import type { Pool } from '../store/db.ts';

/** A revoked key keeps working at most this long on a process that has cached it. */
const KEY_CACHE_TTL_MS = 30_000;
const KEY_CACHE_ENTRIES_MAX = 10_000;

export type Authenticate = (req: FastifyRequest) => Promise<AppRow>;

export function createAuthenticator(pool: Pool): Authenticate {
  const cache = new Map<string, { app: AppRow; until: number }>();
  return async (req) => {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) {
      throw new PaycenterError('unauthorized', 'Send your API key as `Authorization: Bearer <key>`.');
    }
    const hash = sha256(match[1]!);
    const hit = cache.get(hash);
    if (hit && hit.until > Date.now()) return hit.app;
    const app = await findAppByKeyHash(pool, hash);
    if (!app) throw new PaycenterError('unauthorized', 'The API key is not valid. Check the key printed at start-up.');
    if (cache.size >= KEY_CACHE_ENTRIES_MAX) cache.clear();
    cache.set(hash, { app, until: Date.now() + KEY_CACHE_TTL_MS });
    return app;
  };
}
