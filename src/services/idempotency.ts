// Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): the same key and body get the
// first response again; another body with the same key is refused; a key in flight is refused.
import { claimIdempotencyKey, completeIdempotencyKey, releaseIdempotencyKey } from '../store/idempotency.ts';
import { PaycenterError } from '../domain/errors.ts';
import type { ServiceContext } from './context.ts';

/** Keys are kept 24 h, the draft's suggested minimum for client retries. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

export interface StoredResponse {
  status: number;
  body: unknown;
}

export async function withIdempotencyKey(
  ctx: ServiceContext,
  appId: string,
  key: string,
  requestHash: string,
  run: () => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const claim = await claimIdempotencyKey(ctx.pool, appId, key, requestHash, IDEMPOTENCY_KEY_TTL_MS);
  if (claim.kind !== 'claimed' && claim.requestHash !== requestHash) {
    throw new PaycenterError(
      'idempotency_key_reused',
      'This Idempotency-Key was used with a different request body; use a new key for a new request.',
    );
  }
  if (claim.kind === 'in_flight') {
    throw new PaycenterError(
      'idempotency_key_in_flight',
      'A request with this Idempotency-Key is still being processed; retry after it completes.',
    );
  }
  if (claim.kind === 'done') return { status: claim.status, body: claim.body, replayed: true };
  let response: StoredResponse;
  try {
    response = await run();
  } catch (err) {
    if (err instanceof PaycenterError && err.status < 500) {
      response = { status: err.status, body: errorBody(err) };
      await completeIdempotencyKey(ctx.pool, appId, key, response.status, response.body);
    } else {
      // No definite answer: free the key so the client's retry is processed afresh.
      await releaseIdempotencyKey(ctx.pool, appId, key).catch(() => undefined);
    }
    throw err;
  }
  await completeIdempotencyKey(ctx.pool, appId, key, response.status, response.body);
  return { ...response, replayed: false };
}

export function errorBody(err: PaycenterError): { error: Record<string, unknown> } {
  return { error: { code: err.code, message: err.message, ...err.details } };
}
