// Refund states, what a channel's word about a refund does to it, and an order's refund progress.
// Pure: the services read the refund under its order's lock, call these, and apply the result.
import type { EventType } from './events.ts';

/** The channel's word about one refund. `processing` and `unknown` mean "ask again later"; never infer from silence. */
export type RefundStatus =
  | { kind: 'succeeded'; amountMinor: number; channelRefundNo?: string; succeededAt: Date }
  /** Accepted, the money not yet returned. */
  | { kind: 'processing' }
  /** Final: no money moved (refused at request, or CLOSED/ABNORMAL later). */
  | { kind: 'failed'; code: string; message: string }
  /** The channel has no refund with this number: our request never reached it. */
  | { kind: 'not_found' }
  | { kind: 'unknown'; reason: string };

export const REFUND_STATES = ['PENDING', 'SUCCEEDED', 'FAILED'] as const;
export type RefundState = (typeof REFUND_STATES)[number];

/** A refund ends on the channel's word only: SUCCEEDED when the money went back, FAILED when none moved. */
export const refundTransitions: Readonly<Record<RefundState, readonly RefundState[]>> = {
  PENDING: ['SUCCEEDED', 'FAILED'],
  SUCCEEDED: [],
  FAILED: [],
};

/** merchant: asked through the API. duplicate / late: Paycenter returning a second or a late payment. */
export const REFUND_KINDS = ['merchant', 'duplicate', 'late'] as const;
export type RefundKind = (typeof REFUND_KINDS)[number];

export interface RefundFacts {
  id: string;
  kind: RefundKind;
  state: RefundState;
  amountMinor: number;
}

export type RefundDecision =
  | { kind: 'finish'; to: 'SUCCEEDED' | 'FAILED'; reason: string; channelRefundNo?: string; failure?: { code: string; message: string } }
  /** The channel does not know the refund: our request never arrived, so it is sent again with the same number. */
  | { kind: 'resend'; reason: string }
  /** Nothing to change now; the refund query keeps asking. */
  | { kind: 'wait'; reason: string; anomaly?: 'refund_amount_mismatch' };

export function decideOnRefundStatus(refund: RefundFacts, status: RefundStatus, source: string): RefundDecision {
  if (refund.state !== 'PENDING') return { kind: 'wait', reason: `${source}: refund already ${refund.state}` };
  switch (status.kind) {
    case 'succeeded':
      // Only exactly the amount we asked for counts: anything else is for a person to look at.
      if (status.amountMinor !== refund.amountMinor) {
        return {
          kind: 'wait',
          reason: `${source}: channel reports ${status.amountMinor} refunded but the refund is ${refund.amountMinor}`,
          anomaly: 'refund_amount_mismatch',
        };
      }
      return { kind: 'finish', to: 'SUCCEEDED', reason: `${source}: channel reports the refund succeeded`, channelRefundNo: status.channelRefundNo };
    case 'failed':
      return {
        kind: 'finish',
        to: 'FAILED',
        reason: `${source}: channel reports the refund failed (${status.code})`,
        failure: { code: status.code, message: status.message },
      };
    case 'not_found':
      return { kind: 'resend', reason: `${source}: channel has no such refund yet` };
    case 'processing':
      return { kind: 'wait', reason: `${source}: refund in progress` };
    case 'unknown':
      return { kind: 'wait', reason: `${source}: unknown (${status.reason})` };
    default: {
      const impossible: never = status;
      throw new Error(`unhandled refund status ${JSON.stringify(impossible)}`);
    }
  }
}

/** The event a finished refund emits: a merchant's refund, or the automatic return of a second or late payment. */
export function refundEvent(kind: RefundKind, to: 'SUCCEEDED' | 'FAILED'): EventType {
  if (to === 'FAILED') return 'refund.failed';
  if (kind === 'duplicate') return 'payment.duplicate_refunded';
  if (kind === 'late') return 'payment.late_refunded';
  return 'refund.succeeded';
}

export type RefundProgress = 'NONE' | 'PARTIAL' | 'FULL';

/** How much of a paid amount has gone back to the buyer, by succeeded refunds only. */
export function refundProgress(paidMinor: number, refundedMinor: number): RefundProgress {
  if (refundedMinor <= 0) return 'NONE';
  return refundedMinor >= paidMinor ? 'FULL' : 'PARTIAL';
}

/** After the last step the refund is still asked about at this interval: never given up by silence. */
export const REFUND_QUERY_DELAYS_MS = [10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000];

/** The delay before refund query step `step` (0 is the first query after the request). */
export function refundQueryDelay(delaysMs: readonly number[], step: number): number {
  return delaysMs[Math.min(step, delaysMs.length - 1)]!;
}
