// The delivery dispatcher: takes due deliveries, sends each to its webhook endpoint or broker,
// logs the attempt and schedules the next one. At least once, until acknowledged (G4); receivers
// dedupe on the event id. Wakes at once for events committed in this process, polls for the rest.
import { performance } from 'node:perf_hooks';
import { claimDueDeliveries, recordAttempt, type AttemptOutcome, type ClaimedDelivery } from '../store/deliveries.ts';
import { disableWebhookEndpoint } from '../store/webhook-endpoints.ts';
import { nextDelivery } from '../domain/delivery-schedule.ts';
import { postWebhook } from '../delivery/webhook.ts';
import type { BrokerPublisher, BrokerTarget, OutboundMessage } from '../delivery/types.ts';
import { eventView } from './views.ts';
import type { ServiceContext } from './context.ts';

export interface DispatcherOptions {
  publishers: ReadonlyMap<BrokerTarget, BrokerPublisher>;
  scheduleMs: readonly number[];
  timeoutMs: number;
  /** Deliveries in flight at once in this process. */
  concurrency: number;
  /** How often to look for deliveries committed elsewhere or become due. */
  pollIntervalMs: number;
  random?: () => number;
}

export interface Dispatcher {
  wake(): void;
  stop(): Promise<void>;
}

interface AttemptResult {
  outcome: AttemptOutcome;
  statusCode: number | null;
  responseExcerpt: string | null;
  error: string | null;
  retryAfterMs?: number | undefined;
}

export function startDispatcher(ctx: ServiceContext, opts: DispatcherOptions): Dispatcher {
  const log = ctx.log.child({ component: 'delivery' });
  const random = opts.random ?? Math.random;
  // Longer than any attempt can take, so a live process never loses its claim mid-attempt.
  const leaseMs = 2 * opts.timeoutMs + 5_000;
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  let pumping: Promise<void> | undefined;
  let again = false;

  const pump = (): Promise<void> => {
    if (pumping) {
      again = true;
      return pumping;
    }
    pumping = claimAndStart().finally(() => (pumping = undefined));
    return pumping;
  };

  const claimAndStart = async (): Promise<void> => {
    try {
      do {
        again = false;
        while (!stopped && inFlight.size < opts.concurrency) {
          const claimed = await claimDueDeliveries(ctx.pool, opts.concurrency - inFlight.size, leaseMs);
          for (const d of claimed) {
            const running = deliver(d).finally(() => {
              inFlight.delete(running);
              void pump();
            });
            inFlight.add(running);
          }
          if (claimed.length === 0) break;
        }
      } while (again && !stopped);
    } catch (err) {
      log.warn({ err }, 'could not claim deliveries; retrying on the next poll');
    }
  };

  const deliver = async (d: ClaimedDelivery): Promise<void> => {
    const startedAt = ctx.now();
    const started = performance.now();
    const message: OutboundMessage = {
      eventId: d.event.id,
      type: d.event.type,
      appId: d.event.appId,
      body: JSON.stringify(eventView(d.event)),
    };
    const result = await attempt(d, message);
    const latencyMs = Math.round(performance.now() - started);
    const next =
      result.outcome === 'delivered'
        ? ({ state: 'delivered', step: d.step, nextAttemptAt: null } as const)
        : result.outcome === 'gone'
          ? ({ state: 'dead', step: d.step, nextAttemptAt: null } as const)
          : retryOrDead(d.step, result.retryAfterMs);
    try {
      const recorded = await recordAttempt(ctx.pool, {
        deliveryId: d.id,
        attempt: d.attempts,
        startedAt,
        latencyMs,
        outcome: result.outcome,
        statusCode: result.statusCode,
        responseExcerpt: result.responseExcerpt,
        error: result.error,
        next,
      });
      if (result.outcome === 'gone' && d.endpointId) {
        await disableWebhookEndpoint(ctx.pool, d.endpointId, `receiver answered 410 Gone at ${startedAt.toISOString()}`);
      }
      ctx.metrics.deliveryAttempts.inc({ target: d.target, outcome: result.outcome });
      if (recorded && next.state === 'delivered') {
        ctx.metrics.deliveryLagSeconds.observe({ target: d.target }, (Date.now() - d.event.createdAt.getTime()) / 1000);
      }
      const fields = { deliveryId: d.id, eventId: d.event.id, target: d.target, endpointId: d.endpointId, attempt: d.attempts, latencyMs };
      if (result.outcome === 'delivered') log.debug({ ...fields, statusCode: result.statusCode }, 'delivered');
      else {
        const line = { ...fields, statusCode: result.statusCode, error: result.error, response: result.responseExcerpt, next: next.state };
        if (next.state === 'dead') log.error(line, 'delivery is dead: redeliver with POST /v1/events/{id}/redeliver');
        else log.warn({ ...line, nextAttemptAt: next.nextAttemptAt }, 'delivery attempt failed; will retry');
      }
    } catch (err) {
      // The claim's lease runs out and the delivery is tried again: at least once, never lost.
      log.warn({ err, deliveryId: d.id }, 'could not record a delivery attempt');
    }
  };

  const retryOrDead = (step: number, retryAfterMs: number | undefined) => {
    const n = nextDelivery(step, opts.scheduleMs, random(), retryAfterMs);
    if (n.kind === 'dead') return { state: 'dead', step, nextAttemptAt: null } as const;
    return { state: 'pending', step: n.step, nextAttemptAt: new Date(ctx.now().getTime() + n.delayMs) } as const;
  };

  const attempt = async (d: ClaimedDelivery, message: OutboundMessage): Promise<AttemptResult> => {
    if (d.target === 'webhook') {
      if (!d.endpoint) return failure('gone', 'the webhook endpoint was deleted or disabled');
      return postWebhook(d.endpoint, message, opts.timeoutMs, ctx.now);
    }
    const publisher = opts.publishers.get(d.target);
    // Another process may have the broker configured; this one leaves it for a later attempt.
    if (!publisher) return failure('failed', `${d.target === 'amqp' ? 'AMQP_URL' : 'NATS_URL'} is not configured in this process`);
    try {
      await publisher.publish(message);
      return { outcome: 'delivered', statusCode: null, responseExcerpt: null, error: null };
    } catch (err) {
      return failure('failed', err instanceof Error ? err.message : String(err));
    }
  };

  const timer = setInterval(() => void pump(), opts.pollIntervalMs);
  timer.unref();
  void pump();
  return {
    wake: () => void pump(),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await pumping;
      await Promise.allSettled([...inFlight]);
    },
  };
}

function failure(outcome: 'failed' | 'gone', error: string): AttemptResult {
  return { outcome, statusCode: null, responseExcerpt: null, error };
}
