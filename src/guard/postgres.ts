import type { SubmissionGuard } from './index.ts';
import { claimFingerprint } from '../store/submission-guard.ts';

export function createPostgresGuard(): SubmissionGuard {
  return {
    kind: 'postgres',
    mode: () => 'postgres',
    claim: (tx, appId, fingerprint, orderId, windowMs) => claimFingerprint(tx, appId, fingerprint, orderId, windowMs),
    // The claim rolls back with the order's transaction: nothing to give back.
    release: async () => undefined,
    close: async () => undefined,
  };
}
