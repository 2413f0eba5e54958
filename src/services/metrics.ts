// Prometheus metrics. Gauges over the database are computed when /metrics is scraped.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Pool } from '../store/db.ts';
import { countOrdersByState, countOverduePaying } from '../store/metrics.ts';
import { outboxStats } from '../store/deliveries.ts';
import { GUARD_MODES, type SubmissionGuard } from '../guard/index.ts';
import { FIRST_QUERY_DELAY_MS } from '../domain/schedule.ts';
import { ORDER_STATES } from '../domain/states.ts';

export interface Metrics {
  registry: Registry;
  channelCallSeconds: Histogram<'channel' | 'operation' | 'outcome'>;
  channelCallErrors: Counter<'channel' | 'operation'>;
  notificationsRefused: Counter<'channel' | 'reason'>;
  notificationsAccepted: Counter<'channel'>;
  anomalies: Counter<'kind'>;
  deliveryAttempts: Counter<'target' | 'outcome'>;
  deliveryLagSeconds: Histogram<'target'>;
  reconciliationDifferences: Counter<'channel' | 'class'>;
}

/** Gauges collected in one scrape share one reading of the database. */
const READING_REUSE_MS = 1_000;

function sharedPerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let last: { atMs: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.atMs > READING_REUSE_MS) {
      const reading = { atMs: Date.now(), value: read() };
      last = reading;
      // A failed reading must not be served to the next scrape.
      reading.value.catch(() => {
        if (last === reading) last = undefined;
      });
    }
    return last.value;
  };
}

export function createMetrics(pool: Pool, guard: Pick<SubmissionGuard, 'mode'>, firstQueryDelayMs = FIRST_QUERY_DELAY_MS): Metrics {
  const countsByState = sharedPerScrape(() => countOrdersByState(pool));
  const outbox = sharedPerScrape(() => outboxStats(pool));
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'paycenter_process_' });
  new Gauge({
    name: 'paycenter_orders',
    help: 'Orders by state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = await countsByState();
      for (const state of ORDER_STATES) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  new Gauge({
    name: 'paycenter_orders_exception',
    help: 'Orders in EXCEPTION: unresolved after the query schedule; an operator may need to act.',
    registers: [registry],
    async collect() {
      this.set((await countsByState()).get('EXCEPTION') ?? 0);
    },
  });
  new Gauge({
    name: 'paycenter_paying_overdue',
    help: 'PAYING orders whose open attempt is older than the first query delay (notifications may be lost).',
    registers: [registry],
    async collect() {
      this.set(await countOverduePaying(pool, firstQueryDelayMs));
    },
  });
  new Gauge({
    name: 'paycenter_submission_guard_mode',
    help: 'Who answers duplicate claims first: redis, or postgres (Redis not configured or not answering).',
    labelNames: ['mode'],
    registers: [registry],
    collect() {
      const current = guard.mode();
      for (const mode of GUARD_MODES) this.set({ mode }, mode === current ? 1 : 0);
    },
  });
  new Gauge({
    name: 'paycenter_outbox_pending',
    help: 'Deliveries (event × webhook endpoint or broker) not yet acknowledged and not dead.',
    registers: [registry],
    async collect() {
      this.set((await outbox()).pending);
    },
  });
  new Gauge({
    name: 'paycenter_outbox_oldest_pending_seconds',
    help: 'Age of the oldest pending delivery; grows while a receiver or broker is down.',
    registers: [registry],
    async collect() {
      this.set((await outbox()).oldestPendingSeconds);
    },
  });
  new Gauge({
    name: 'paycenter_deliveries_dead',
    help: 'Deliveries given up after the whole retry schedule (or 410 Gone): resend with POST /v1/events/{id}/redeliver.',
    registers: [registry],
    async collect() {
      this.set((await outbox()).dead);
    },
  });
  return {
    registry,
    deliveryAttempts: new Counter({
      name: 'paycenter_delivery_attempts_total',
      help: 'Delivery attempts by target (webhook, amqp, nats) and outcome (delivered, failed, gone).',
      labelNames: ['target', 'outcome'],
      registers: [registry],
    }),
    deliveryLagSeconds: new Histogram({
      name: 'paycenter_delivery_lag_seconds',
      help: 'From the event\'s transaction to the receiver\'s acknowledgement, retries included.',
      labelNames: ['target'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600, 86_400],
      registers: [registry],
    }),
    channelCallSeconds: new Histogram({
      name: 'paycenter_channel_call_seconds',
      help: 'Latency of calls to payment channels.',
      labelNames: ['channel', 'operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    channelCallErrors: new Counter({
      name: 'paycenter_channel_call_errors_total',
      help: 'Channel calls whose answer was unknown (timeout, 5xx, unsigned).',
      labelNames: ['channel', 'operation'],
      registers: [registry],
    }),
    notificationsRefused: new Counter({
      name: 'paycenter_notifications_refused_total',
      help: 'Notifications refused (bad signature, stale, wrong merchant, unknown order, amount mismatch …).',
      labelNames: ['channel', 'reason'],
      registers: [registry],
    }),
    notificationsAccepted: new Counter({
      name: 'paycenter_notifications_accepted_total',
      help: 'Notifications verified and applied.',
      labelNames: ['channel'],
      registers: [registry],
    }),
    anomalies: new Counter({
      name: 'paycenter_payment_anomalies_total',
      help: 'Payments reported on orders already paid by another attempt, on closed orders, or for a wrong amount.',
      labelNames: ['kind'],
      registers: [registry],
    }),
    reconciliationDifferences: new Counter({
      name: 'paycenter_reconciliation_differences_total',
      help: 'Differences found between a channel\'s daily bill and Paycenter\'s records, by class (see the README, Daily reconciliation).',
      labelNames: ['channel', 'class'],
      registers: [registry],
    }),
  };
}
