// Events of every app with their deliveries: the list (filtered down to those with a dead
// delivery from the dashboard), one event with every attempt, and redelivery by an operator.
import type { ConsolePage } from '../index.ts';
import { html, formatTime } from '../../html.ts';
import { CONSOLE, csrfField, formField, layout, mayPerform, queryString, redirectWithNotice, sendPage } from '../page.ts';
import { EVENT_TYPES } from '../../domain/events.ts';
import { PaycenterError } from '../../domain/errors.ts';
import { endpointUrls, findEventOwner, listConsoleEvents, type ConsoleEventRow } from '../../store/console-lists.ts';
import { getEvent, redeliverEvent, type DeliveryView } from '../../services/events.ts';
import { performOperatorAction } from '../../services/operators.ts';
import { PAGE_SIZE, badge, cursorNumber, noteField, orderLink, pageOf, pager } from './parts.ts';

const EVENTS = `${CONSOLE}/events`;

function eventPath(id: string): string {
  return `${EVENTS}/${encodeURIComponent(id)}`;
}

async function requireOwner(deps: Parameters<ConsolePage>[1], id: string) {
  const owner = await findEventOwner(deps.ctx.pool, id);
  if (!owner) throw new PaycenterError('not_found', `No event ${id}.`);
  return owner;
}

function deliveryCounts(e: ConsoleEventRow) {
  return html`${e.dead > 0 ? html`${badge('dead')} ${e.dead} ` : ''}${e.pending > 0 ? html`${badge('pending')} ${e.pending} ` : ''}${
    e.delivered > 0 ? html`${badge('delivered')} ${e.delivered}` : ''
  }${e.dead + e.pending + e.delivered === 0 ? html`<span class="muted">none</span>` : ''}`;
}

function deliverySection(d: DeliveryView, urls: Map<string, string>) {
  const where = d.endpointId ? html`webhook <span class="mono">${urls.get(d.endpointId) ?? d.endpointId}</span>` : d.target;
  return html`<section class="card">
<h3>${where} ${badge(d.state)}</h3>
<dl class="facts">
<dt>Attempts</dt><dd>${d.attempts}</dd>
${d.nextAttemptAt ? html`<dt>Next attempt</dt><dd>${formatTime(d.nextAttemptAt)}</dd>` : ''}
${d.deliveredAt ? html`<dt>Delivered</dt><dd>${formatTime(d.deliveredAt)}</dd>` : ''}
${d.lastError ? html`<dt>Last error</dt><dd>${d.lastError}</dd>` : ''}
</dl>
${d.log.length === 0
  ? html`<p class="muted">No attempt yet.</p>`
  : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">#</th><th scope="col">Started</th><th scope="col">Latency</th><th scope="col">Outcome</th><th scope="col">Status</th><th scope="col">Error</th><th scope="col">Response (first bytes)</th></tr></thead>
<tbody>${d.log.map(
      (a) => html`<tr><td class="num">${a.attempt}</td><td>${formatTime(a.at)}</td><td class="num">${a.latencyMs} ms</td>
<td>${badge(a.outcome)}</td><td class="num">${a.statusCode ?? ''}</td><td>${a.error ?? ''}</td><td><span class="mono">${a.response ?? ''}</span></td></tr>`,
    )}</tbody></table></div>`}
</section>`;
}

export const eventsPage: ConsolePage = (app, deps) => {
  const { ctx } = deps;

  app.get(EVENTS, async (req, reply) => {
    const filters = { type: queryString(req, 'type'), order: queryString(req, 'order')?.trim(), delivery: queryString(req, 'delivery') };
    if (filters.type !== undefined && !Object.hasOwn(EVENT_TYPES, filters.type)) {
      throw new PaycenterError('invalid_request', `type: one of ${Object.keys(EVENT_TYPES).join(', ')}.`, { field: 'type' });
    }
    const before = cursorNumber(req, 'before');
    const { rows, more } = pageOf(
      await listConsoleEvents(
        ctx.pool,
        { type: filters.type ?? null, orderId: filters.order || null, deadOnly: filters.delivery === 'dead', beforePosition: before },
        PAGE_SIZE + 1,
      ),
    );
    const body = html`<form class="filters" method="get" action="${EVENTS}">
<label>Type <select name="type"><option value="">All types</option>${Object.keys(EVENT_TYPES).map(
      (t) => html`<option${t === filters.type ? html` selected` : ''}>${t}</option>`,
    )}</select></label>
<label>Order id <input name="order" value="${filters.order ?? ''}"></label>
<label>Delivery <select name="delivery"><option value="">Any</option><option value="dead"${filters.delivery === 'dead' ? html` selected` : ''}>With a dead delivery</option></select></label>
<button type="submit">Filter</button>
</form>
${rows.length === 0
  ? html`<p class="muted">No event matches.</p>`
  : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Created</th><th scope="col">Type</th><th scope="col">Order</th><th scope="col">App</th><th scope="col">Deliveries</th><th scope="col">Event</th></tr></thead>
<tbody>${rows.map(
      (e) => html`<tr><td>${formatTime(e.createdAt)}</td><td>${e.type}</td><td>${orderLink(e.orderId)}</td><td>${e.appName}</td>
<td>${deliveryCounts(e)}</td><td><a class="mono" href="${eventPath(e.id)}">${e.id}</a></td></tr>`,
    )}</tbody></table></div>`}
${pager(EVENTS, filters, { name: 'before', current: queryString(req, 'before'), next: more ? String(rows.at(-1)!.position) : null })}`;
    return sendPage(reply, layout(req, { title: filters.delivery === 'dead' ? 'Events with a dead delivery' : 'Events', current: 'events', body }));
  });

  app.get<{ Params: { id: string } }>(`${EVENTS}/:id`, async (req, reply) => {
    const owner = await requireOwner(deps, req.params.id);
    const event = await getEvent(ctx, owner.appId, req.params.id);
    const urls = await endpointUrls(ctx.pool, event.deliveries.flatMap((d) => (d.endpointId ? [d.endpointId] : [])));
    const body = html`<dl class="facts card">
<dt>Event</dt><dd class="mono">${event.id}</dd>
<dt>Type</dt><dd>${event.type}</dd>
<dt>Sequence</dt><dd>${event.sequence}</dd>
<dt>Order</dt><dd>${orderLink(owner.orderId)}</dd>
<dt>App</dt><dd>${owner.appName} <span class="mono muted">${owner.appId}</span></dd>
<dt>Created</dt><dd>${formatTime(event.createdAt)}</dd>
</dl>
${mayPerform(req, 'redeliver_event')
  ? html`<form class="card stack" method="post" action="${eventPath(event.id)}/redeliver">${csrfField(req)}
<h2>Redeliver</h2>
<p class="muted">Sends the event again, with a fresh retry schedule, to every active target whose delivery finished (dead or delivered).</p>
${noteField('redeliver-note')}
<p><button type="submit">Redeliver event</button></p>
</form>`
  : ''}
<h2>Deliveries</h2>
${event.deliveries.length === 0 ? html`<p class="muted">No delivery: the app had no webhook endpoint and no broker was configured.</p>` : event.deliveries.map((d) => deliverySection(d, urls))}
<h2>Data</h2>
<pre>${JSON.stringify(event.data, null, 2)}</pre>`;
    return sendPage(reply, layout(req, { title: `Event ${event.type}`, current: 'events', body }));
  });

  app.post<{ Params: { id: string } }>(`${EVENTS}/:id/redeliver`, async (req, reply) => {
    const owner = await requireOwner(deps, req.params.id);
    const event = await performOperatorAction(
      ctx,
      req.operator!,
      'redeliver_event',
      { orderId: owner.orderId, target: req.params.id, note: formField(req, 'note') },
      () => redeliverEvent(ctx, owner.appId, req.params.id),
    );
    const queued = event.deliveries.filter((d) => d.state === 'pending').length;
    return redirectWithNotice(reply, eventPath(event.id), `Redelivery queued to ${queued} target${queued === 1 ? '' : 's'}.`);
  });
};
