// Every call to a channel goes through here: timed, counted, and written to the timeline.
import { insertChannelCall, type ChannelOperation } from '../store/evidence.ts';
import type { AttemptRow } from '../store/orders.ts';
import type { Channel, TradeRef } from '../channels/types.ts';
import { PaycenterError } from '../domain/errors.ts';
import type { ServiceContext } from './context.ts';

type Outcome = { kind: string; reason?: string; code?: string; message?: string };

export function channelFor(ctx: ServiceContext, name: string): Channel {
  const channel = ctx.channels.get(name);
  if (!channel) {
    throw new PaycenterError('channel_not_configured', `channel ${name} is not configured on this Paycenter`, { channel: name });
  }
  return channel;
}

export async function callChannel<T extends Outcome>(
  ctx: ServiceContext,
  attempt: AttemptRow,
  operation: ChannelOperation,
  call: (channel: Channel) => Promise<T>,
): Promise<T> {
  const channel = channelFor(ctx, attempt.channel);
  const started = performance.now();
  const result = await call(channel);
  const latencyMs = Math.round(performance.now() - started);
  ctx.metrics.channelCallSeconds.observe({ channel: channel.name, operation, outcome: result.kind }, latencyMs / 1000);
  if (result.kind === 'unknown') ctx.metrics.channelCallErrors.inc({ channel: channel.name, operation });
  const detail = result.reason ?? (result.code ? `${result.code}: ${result.message ?? ''}` : null);
  await insertChannelCall(ctx.pool, {
    orderId: attempt.orderId,
    attemptId: attempt.id,
    operation,
    outcome: result.kind,
    detail: detail?.slice(0, 500) ?? null,
    latencyMs,
  }).catch((err: unknown) => ctx.log.error({ err, attemptId: attempt.id }, 'could not record channel call'));
  return result;
}

/** How an attempt's trade is named to its channel. */
export function tradeRef(attempt: AttemptRow): TradeRef {
  return { outTradeNo: attempt.outTradeNo, createdAt: attempt.createdAt, expiresAt: attempt.channelExpiresAt };
}
