// Flow 3: a channel's notification. Verified first (G5); then stored and applied in one
// transaction with the order's lock held, so a duplicate finds the work done. Anything that
// does not check out is stored, refused, counted, and triggers an active query instead.
import { findAttempt, findAttemptByOutTradeNo } from '../store/orders.ts';
import { findRefundByOutRefundNo } from '../store/refunds.ts';
import type { Tx } from '../store/db.ts';
import { insertNotification } from '../store/evidence.ts';
import { addJob } from '../store/jobs.ts';
import type { Channel, NotificationAck, RawHttpRequest } from '../channels/types.ts';
import { paidAmountMatches } from '../domain/decisions.ts';
import { queryNowJob } from './active-query.ts';
import { settleAttempt } from './state-change.ts';
import { settleRefund } from './refunds.ts';
import { refundQueryNowJob } from './refund-open.ts';
import { channelFor } from './channel-calls.ts';
import type { ServiceContext } from './context.ts';

/** Only these headers are kept as evidence: the channel's signature headers, never a secret. */
function evidenceHeaders(channel: Channel, headers: RawHttpRequest['headers']): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'content-type' || name === 'user-agent' || channel.isEvidenceHeader(name)) kept[name] = value;
  }
  return kept;
}

const BODY_STORED_CHARS_MAX = 64 * 1024;

export async function handleNotification(ctx: ServiceContext, channelName: string, request: RawHttpRequest): Promise<NotificationAck> {
  const channel = channelFor(ctx, channelName);
  const parsed = await channel.parseNotification(request);
  const outTradeNo = parsed.outTradeNo;
  const refundNo = parsed.verified && parsed.refund ? parsed.refund.outRefundNo : undefined;
  const refund = refundNo ? await findRefundByOutRefundNo(ctx.pool, refundNo) : null;
  const attempt = refund
    ? await findAttempt(ctx.pool, refund.attemptId)
    : outTradeNo && !refundNo
      ? await findAttemptByOutTradeNo(ctx.pool, channelName, outTradeNo)
      : null;
  const evidence = {
    channel: channelName,
    notificationId: parsed.notificationId ?? null,
    outTradeNo: outTradeNo || null,
    outRefundNo: refundNo ?? null,
    orderId: attempt?.orderId ?? null,
    headers: evidenceHeaders(channel, request.headers),
    body: request.rawBody.slice(0, BODY_STORED_CHARS_MAX),
  };
  const refuse = async (reason: string): Promise<NotificationAck> => {
    await insertNotification(ctx.pool, { ...evidence, verified: false, refusalReason: reason, outcome: 'refused' });
    ctx.metrics.notificationsRefused.inc({ channel: channelName, reason });
    ctx.log.warn({ channel: channelName, reason, outTradeNo, outRefundNo: refundNo, notificationId: evidence.notificationId }, 'notification refused');
    if (refund) await addJob(ctx.pool, refundQueryNowJob(refund.id));
    else if (attempt) await addJob(ctx.pool, queryNowJob(attempt.id));
    return channel.notificationAck(false, reason);
  };
  if (!parsed.verified) return refuse(parsed.reason);
  // Stored in the same transaction as its effect; a redelivery of the same id is a no-op there
  // and finds the state already changed.
  const store = (outcome: string) => async (tx: Tx) =>
    void (await insertNotification(tx, { ...evidence, verified: true, refusalReason: null, outcome }));
  if (parsed.refund) {
    if (!refund || attempt?.channel !== channelName) return refuse('unknown_refund');
    const status = parsed.refund.status;
    if (status.kind === 'succeeded' && status.amountMinor !== refund.amountMinor) return refuse('amount_mismatch');
    const decision = await settleRefund(ctx, refund.id, status, 'notification', store(`refund_${status.kind}`));
    // A notice that does not settle the refund by itself (Alipay's carry no amount) is confirmed by a query now.
    if (decision.kind !== 'finish' && status.kind !== 'failed') await addJob(ctx.pool, refundQueryNowJob(refund.id));
    ctx.metrics.notificationsAccepted.inc({ channel: channelName });
    return channel.notificationAck(true);
  }
  if (!attempt) return refuse('unknown_order');
  const status = parsed.status;
  // Refused here (not only left unapplied by the decision) so the channel hears a 4xx.
  if (status.kind === 'paid' && !paidAmountMatches(attempt, status)) {
    return refuse('amount_mismatch');
  }
  await settleAttempt(ctx, attempt.id, status, { source: 'notification', closing: false }, { before: store(status.kind) });
  ctx.metrics.notificationsAccepted.inc({ channel: channelName });
  return channel.notificationAck(true);
}
