// The dashboard: what needs an operator's eyes now, each number a link to the list behind it.
import type { ConsolePage } from '../index.ts';
import { html, type Html } from '../../html.ts';
import { CONSOLE, layout, sendPage } from '../page.ts';
import { ORDER_STATES } from '../../domain/states.ts';
import { dashboardFacts, type DashboardFacts } from '../../services/operator-orders.ts';

const HOUR_MS = 3_600_000;
const CHART_HOURS = 24;

export const dashboardPage: ConsolePage = (app, { ctx }) => {
  app.get(CONSOLE, async (req, reply) => {
    const facts = await dashboardFacts(ctx);
    const { counts } = facts;
    const stat = (href: string, n: number, label: string, alert = false) =>
      html`<a class="stat${alert && n > 0 ? ' alert' : ''}" href="${href}"><span class="n">${n}</span>${label}</a>`;
    const body = html`<section aria-labelledby="by-state"><h2 id="by-state">Orders by state</h2>
<div class="grid">${ORDER_STATES.map((state) =>
      stat(`${CONSOLE}/orders?state=${state}`, counts.byState[state], state, state === 'EXCEPTION'),
    )}</div></section>
<section aria-labelledby="attention"><h2 id="attention">Needs attention</h2>
<div class="grid">
${stat(`${CONSOLE}/orders?state=PAYING`, counts.payingPastFirstQuery, `PAYING past their first query (older than ${facts.firstQueryDelayMs / 1000} s)`, true)}
${stat(`${CONSOLE}/orders?state=EXCEPTION`, counts.byState.EXCEPTION, 'in the EXCEPTION queue', true)}
${stat(`${CONSOLE}/notifications`, counts.refusedNotificationsLastDay, 'refused notifications in the last 24 h', true)}
${stat(`${CONSOLE}/events?delivery=dead`, counts.deadDeliveries, 'dead deliveries', true)}
${stat(`${CONSOLE}/reconciliations`, counts.openDifferences, 'open reconciliation differences (last 30 days)', true)}
</div></section>
<section aria-labelledby="by-hour"><h2 id="by-hour">Orders created, last 24 hours</h2>${hourlyChart(hourlyBuckets(facts))}</section>`;
    return sendPage(reply, layout(req, { title: 'Dashboard', current: 'dashboard', body }));
  });
};

/** The last 24 whole hours (UTC), the current one last, hours with no order at 0. */
function hourlyBuckets({ byHour, now }: DashboardFacts): { hour: Date; orders: number }[] {
  const current = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const counts = new Map(byHour.map((b) => [b.hour.getTime(), b.orders]));
  return Array.from({ length: CHART_HOURS }, (_, i) => {
    const at = current - (CHART_HOURS - 1 - i) * HOUR_MS;
    return { hour: new Date(at), orders: counts.get(at) ?? 0 };
  });
}

const hourLabel = (at: Date) => `${at.toISOString().slice(11, 13)}:00`;

/** A bar chart drawn here (no script, no inline style: CSP), and the same numbers as a table for screen readers. */
function hourlyChart(buckets: { hour: Date; orders: number }[]): Html {
  const width = 720;
  const height = 180;
  const left = 36;
  const top = 12;
  const bottom = 22;
  const plot = height - top - bottom;
  const slot = (width - left) / buckets.length;
  const max = Math.max(1, ...buckets.map((b) => b.orders));
  const total = buckets.reduce((sum, b) => sum + b.orders, 0);
  const bars = buckets.map((b, i) => {
    const h = Math.round((b.orders / max) * plot);
    return html`<rect class="bar" x="${(left + i * slot + 2).toFixed(1)}" y="${top + plot - h}" width="${(slot - 4).toFixed(1)}" height="${h}"><title>${hourLabel(b.hour)} UTC: ${b.orders} orders</title></rect>`;
  });
  const labels = buckets.map((b, i) =>
    i % 3 === 0 ? html`<text class="axis" x="${(left + i * slot + 2).toFixed(1)}" y="${height - 6}">${hourLabel(b.hour)}</text>` : '',
  );
  return html`<div class="card chart"><p>${total} orders in the last 24 hours (hours in UTC).</p>
<svg viewBox="0 0 ${width} ${height}" aria-hidden="true" focusable="false">
<text class="axis" x="0" y="${top + 10}">${max}</text><text class="axis" x="0" y="${top + plot}">0</text>
${bars}${labels}</svg>
<table class="visually-hidden"><caption>Orders created per hour, last 24 hours (UTC)</caption>
<thead><tr><th scope="col">Hour (UTC)</th><th scope="col">Orders</th></tr></thead>
<tbody>${buckets.map((b) => html`<tr><td>${hourLabel(b.hour)}</td><td>${b.orders}</td></tr>`)}</tbody></table></div>`;
}
