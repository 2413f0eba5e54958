// Pure refund rules: what the channel's word does to a refund, the event it emits, and the order's
// refund progress.
import { describe, expect, it } from 'vitest';
import { decideOnRefundStatus, refundEvent, refundProgress, refundQueryDelay, refundTransitions, type RefundFacts } from '../../src/domain/refunds.ts';

const pending: RefundFacts = { id: 're_1', kind: 'merchant', state: 'PENDING', amountMinor: 300 };
const at = new Date('2026-11-25T10:00:00Z');

describe('decideOnRefundStatus', () => {
  it('finishes a pending refund only on the channel’s final word', () => {
    expect(decideOnRefundStatus(pending, { kind: 'succeeded', amountMinor: 300, channelRefundNo: 'R1', succeededAt: at }, 'query')).toMatchObject({
      kind: 'finish',
      to: 'SUCCEEDED',
      channelRefundNo: 'R1',
    });
    expect(decideOnRefundStatus(pending, { kind: 'failed', code: 'CLOSED', message: 'closed' }, 'notification')).toMatchObject({
      kind: 'finish',
      to: 'FAILED',
      failure: { code: 'CLOSED', message: 'closed' },
    });
    expect(decideOnRefundStatus(pending, { kind: 'processing' }, 'query').kind).toBe('wait');
    expect(decideOnRefundStatus(pending, { kind: 'unknown', reason: 'timeout' }, 'query').kind).toBe('wait');
  });

  it('sends again a refund the channel does not know (the same number: never twice)', () => {
    expect(decideOnRefundStatus(pending, { kind: 'not_found' }, 'query').kind).toBe('resend');
  });

  it('never counts another amount than the one asked for', () => {
    const d = decideOnRefundStatus(pending, { kind: 'succeeded', amountMinor: 301, succeededAt: at }, 'notification');
    expect(d).toMatchObject({ kind: 'wait', anomaly: 'refund_amount_mismatch' });
  });

  it('leaves a finished refund as it is, whatever is said later', () => {
    for (const state of ['SUCCEEDED', 'FAILED'] as const) {
      expect(decideOnRefundStatus({ ...pending, state }, { kind: 'failed', code: 'X', message: '' }, 'query').kind).toBe('wait');
      expect(decideOnRefundStatus({ ...pending, state }, { kind: 'not_found' }, 'query').kind).toBe('wait');
    }
    expect(refundTransitions).toEqual({ PENDING: ['SUCCEEDED', 'FAILED'], SUCCEEDED: [], FAILED: [] });
  });
});

describe('refund events and progress', () => {
  it('names the event by kind and outcome', () => {
    expect(refundEvent('merchant', 'SUCCEEDED')).toBe('refund.succeeded');
    expect(refundEvent('duplicate', 'SUCCEEDED')).toBe('payment.duplicate_refunded');
    expect(refundEvent('late', 'SUCCEEDED')).toBe('payment.late_refunded');
    for (const kind of ['merchant', 'duplicate', 'late'] as const) expect(refundEvent(kind, 'FAILED')).toBe('refund.failed');
  });

  it('reads NONE, PARTIAL and FULL from succeeded refunds', () => {
    expect(refundProgress(1000, 0)).toBe('NONE');
    expect(refundProgress(1000, 1)).toBe('PARTIAL');
    expect(refundProgress(1000, 999)).toBe('PARTIAL');
    expect(refundProgress(1000, 1000)).toBe('FULL');
  });

  it('queries on the schedule, then at its last interval for ever', () => {
    expect([0, 1, 2, 5].map((s) => refundQueryDelay([10, 20, 30], s))).toEqual([10, 20, 30, 30]);
  });
});
