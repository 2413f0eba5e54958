// Refunds as the bank handles them (docs/refunds-and-bills.md): backTransReq.do accepts a refund
// (respCode 00) or refuses it, idempotently by orderId; the refund finishes timeScale × 2 s later,
// succeeded or (for a trade set to fail with /sandbox/refund-failures) failed with its fen given
// back, and its backUrl notification goes out through the shared Notifier.
import type { Logger } from '../../logger.ts';
import type { Notifier } from '../notifier.ts';
import { signAsBank, type BankSigner } from './bank-signer.ts';
import { txnTimeRefusal } from './field-rules.ts';
import { refundNotificationFields } from './refund-messages.ts';
import type { RefundOrder } from './refund-request.ts';
import {
  findRefund,
  finishRefundAndEnqueueNotification,
  listDueRefunds,
  reserveAndInsertRefund,
  type RefundRow,
} from './refund-store.ts';
import { refusal, type Refusal } from './resp-codes.ts';
import { findTrade, type Queryable } from './store.ts';
import { encodeForm, newQueryId } from './wire-format.ts';

/** Due refunds are looked for this often (the finish delay, within these bounds). */
const POLL_INTERVAL_MS_MIN = 50;
const POLL_INTERVAL_MS_MAX = 1_000;
/** Refunds finished per poll at most; the rest wait for the next one. */
const DUE_REFUNDS_PER_POLL = 100;

export interface RefundDeps {
  db: Queryable;
  log: Logger;
  notifier: Notifier;
  signer: () => Promise<BankSigner>;
  /** Consume orderIds whose refunds fail from now on. */
  refundFailures: ReadonlySet<string>;
  /** REFUND_FINISH_DELAY_MS × timeScale. */
  finishDelayMs: number;
}

export type RefundAcceptance = { ok: true; refund: RefundRow } | { ok: false; refusal: Refusal };

export async function acceptRefund(deps: RefundDeps, order: RefundOrder, now: Date): Promise<RefundAcceptance> {
  const { db, log } = deps;
  const existing = await findRefund(db, order.merId, order.orderId);
  if (existing) return asResend(existing, order);
  // Only a new refund must carry the current time: a resend keeps its first txnTime (§3.7).
  const late = txnTimeRefusal(order.txnTime, now);
  if (late) return { ok: false, refusal: late };
  if (await findTrade(db, order.merId, order.orderId)) {
    return { ok: false, refusal: refusal('12', `orderId ${order.orderId} is already used by a consume`) };
  }
  const inserted = await reserveAndInsertRefund(db, {
    ...order,
    queryId: newQueryId(now),
    acceptedAt: now,
    finishDueAt: new Date(now.getTime() + deps.finishDelayMs),
  });
  switch (inserted.outcome) {
    case 'accepted':
      log.debug({ merId: order.merId, orderId: order.orderId, origQryId: order.origQryId }, 'sandbox unionpay: refund accepted');
      return { ok: true, refund: inserted.refund };
    case 'not_refundable':
      return { ok: false, refusal: refusal('35', `no paid consume ${order.origQryId} with ${order.txnAmt} fen left to refund`) };
    case 'order_id_taken': {
      const raced = await findRefund(db, order.merId, order.orderId);
      if (!raced) throw new Error(`refund ${order.merId}/${order.orderId} conflicted on insert but cannot be read`);
      return asResend(raced, order);
    }
    default: {
      const impossible: never = inserted;
      throw new Error(`unknown refund insert outcome ${JSON.stringify(impossible)}`);
    }
  }
}

/** The same orderId again: answered as accepted (no second refund) only when every field is the same. */
function asResend(existing: RefundRow, order: RefundOrder): RefundAcceptance {
  if (existing.requestFingerprint === order.requestFingerprint) return { ok: true, refund: existing };
  return { ok: false, refusal: refusal('12', `orderId ${order.orderId} is already used by another transaction`) };
}

/**
 * Finishes due refunds. They are rows with a due time, not timers, so a refund accepted by a
 * sandbox that stopped (or by another process) is finished by whichever sandbox polls next; the
 * guarded update lets only one of them do it.
 */
export class RefundFinisher {
  private readonly pollIntervalMs: number;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly deps: RefundDeps) {
    this.pollIntervalMs = Math.min(POLL_INTERVAL_MS_MAX, Math.max(POLL_INTERVAL_MS_MIN, deps.finishDelayMs));
  }

  /** Finishes what fell due while no sandbox ran, then keeps polling. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.poll();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.pollTimer);
    await this.polling;
  }

  private poll(): Promise<void> {
    this.polling = this.finishDue()
      .catch((err: unknown) => this.deps.log.warn({ err }, 'sandbox unionpay: finishing due refunds failed; retrying'))
      .finally(() => {
        if (this.stopping) return;
        this.pollTimer = setTimeout(() => void this.poll(), this.pollIntervalMs);
        this.pollTimer.unref();
      });
    return this.polling;
  }

  private async finishDue(): Promise<void> {
    const due = await listDueRefunds(this.deps.db, new Date(), DUE_REFUNDS_PER_POLL);
    for (const refund of due) await this.finish(refund, new Date());
  }

  private async finish(refund: RefundRow, now: Date): Promise<void> {
    const { db, log, notifier, signer, refundFailures } = this.deps;
    const state = refundFailures.has(refund.origOrderId) ? 'FAILED' : 'SUCCEEDED';
    const body = encodeForm(await signAsBank(refundNotificationFields(refund, state), await signer()));
    // The refund's queryId is unique, so it names its one notification too.
    const row = notifier.newNotification(refund.queryId, body, now);
    if (!(await finishRefundAndEnqueueNotification(db, refund, { state, finishedAt: now }, row))) return;
    notifier.enqueued(row, refund.backUrl);
    log.debug({ merId: refund.merId, orderId: refund.orderId, state }, 'sandbox unionpay: refund finished');
  }
}
