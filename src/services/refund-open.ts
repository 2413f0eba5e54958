// Opening a refund: the hold on the paid attempt, the PENDING row with its audit, and the durable
// job that sends it — one transaction, shared by merchant refunds and automatic ones.
import type { Tx } from '../store/db.ts';
import { insertRefund, reserveRefund, type NewRefund, type RefundRow } from '../store/refunds.ts';
import { addJob, type JobSpec } from '../store/jobs.ts';

export const REFUND_TASK = 'refund';

export interface RefundJobPayload {
  refundId: string;
  /** 0 sends the request; later steps query it (and send it again if the channel never got it). */
  step: number;
  /** A one-off query (a refund notification that needs confirming) that does not continue the schedule. */
  once?: boolean;
}

/** One pending step per refund: a newer step replaces the older one. */
export function refundJob(refundId: string, step: number, runAt?: Date): JobSpec {
  return { task: REFUND_TASK, payload: { refundId, step }, runAt, jobKey: `refund:${refundId}` };
}

export function refundQueryNowJob(refundId: string): JobSpec {
  return { task: REFUND_TASK, payload: { refundId, step: 1, once: true }, jobKey: `refund-now:${refundId}` };
}

export type OpenRefundResult = { kind: 'opened'; refund: RefundRow } | { kind: 'exceeds_paid' } | { kind: 'number_taken' };

/** Call with the order's lock held; on anything but `opened` the caller aborts the transaction (the hold may be taken). */
export async function openRefund(tx: Tx, refund: NewRefund, auditReason: string): Promise<OpenRefundResult> {
  if (!(await reserveRefund(tx, refund.attemptId, refund.amountMinor))) return { kind: 'exceeds_paid' };
  const row = await insertRefund(tx, refund, auditReason);
  if (!row) return { kind: 'number_taken' };
  await addJob(tx, refundJob(row.id, 0));
  return { kind: 'opened', refund: row };
}
