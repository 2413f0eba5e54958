// Events for consumers that poll, one event with its delivery log, and redelivery.
import { findEvent, listEventsAfter, type EventRow } from '../store/events.ts';
import { listDeliveriesOfEvent, requeueDeliveries, type DeliveryWithAttempts } from '../store/deliveries.ts';
import { PaycenterError } from '../domain/errors.ts';
import { eventView, type EventView } from './views.ts';
import type { ServiceContext } from './context.ts';

export const EVENTS_PAGE_MAX = 100;

export interface EventPage {
  data: EventView[];
  /** True when more events follow; ask again with `after` = the last id of `data`. */
  hasMore: boolean;
}

export async function listEvents(ctx: ServiceContext, appId: string, after: string | undefined, limit: number): Promise<EventPage> {
  if (after !== undefined && !(await findEvent(ctx.pool, appId, after))) {
    throw new PaycenterError('invalid_request', `after: no event ${after} in this app; pass the id of the last event you processed.`, {
      field: 'after',
    });
  }
  const rows = await listEventsAfter(ctx.pool, appId, after ?? null, limit + 1);
  return { data: rows.slice(0, limit).map(eventView), hasMore: rows.length > limit };
}

export interface DeliveryView {
  target: DeliveryWithAttempts['target'];
  endpointId: string | null;
  state: DeliveryWithAttempts['state'];
  attempts: number;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  lastError: string | null;
  log: {
    attempt: number;
    at: string;
    latencyMs: number;
    outcome: DeliveryWithAttempts['log'][number]['outcome'];
    statusCode: number | null;
    response: string | null;
    error: string | null;
  }[];
}

export type EventWithDeliveries = EventView & { deliveries: DeliveryView[] };

export async function getEvent(ctx: ServiceContext, appId: string, id: string): Promise<EventWithDeliveries> {
  return withDeliveries(ctx, await requireEvent(ctx, appId, id));
}

async function withDeliveries(ctx: ServiceContext, event: EventRow): Promise<EventWithDeliveries> {
  const deliveries = await listDeliveriesOfEvent(ctx.pool, event.id);
  return {
    ...eventView(event),
    deliveries: deliveries.map((d) => ({
      target: d.target,
      endpointId: d.endpointId,
      state: d.state,
      attempts: d.attempts,
      nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
      deliveredAt: d.deliveredAt?.toISOString() ?? null,
      lastError: d.lastError,
      log: d.log.map((a) => ({
        attempt: a.attempt,
        at: a.startedAt.toISOString(),
        latencyMs: a.latencyMs,
        outcome: a.outcome,
        statusCode: a.statusCode,
        response: a.responseExcerpt,
        error: a.error,
      })),
    })),
  };
}

/** Sends the event again to every active target whose delivery finished (dead or delivered). */
export async function redeliverEvent(ctx: ServiceContext, appId: string, id: string): Promise<EventWithDeliveries> {
  const event = await requireEvent(ctx, appId, id);
  const queued = await requeueDeliveries(ctx.pool, id, ctx.outbox.brokers);
  if (queued === 0) {
    throw new PaycenterError(
      'nothing_to_redeliver',
      'Every delivery of this event is still pending, or its targets were deleted or disabled. Add a webhook endpoint, or wait for the pending attempts.',
    );
  }
  ctx.outbox.wake();
  return withDeliveries(ctx, event);
}

async function requireEvent(ctx: ServiceContext, appId: string, id: string): Promise<EventRow> {
  const event = await findEvent(ctx.pool, appId, id);
  if (!event) throw new PaycenterError('not_found', `No event ${id} in this app; list events with GET /v1/events.`);
  return event;
}
