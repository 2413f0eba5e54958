// One order, of any app: the status in plain words first (support's "I paid but it says unpaid"),
// then the facts, the actions, payments, refunds and the one timeline of everything that happened.
import type { ConsolePage } from '../index.ts';
import { formatMinor, formatTime, html, type Html } from '../../html.ts';
import { CONSOLE, layout, sendPage } from '../page.ts';
import { stateBadge } from './orders.ts';
import { orderActionForms, orderActions } from './order-actions.ts';
import { orderTimelineList } from './order-timeline.ts';
import { channelLabel } from '../../domain/order-summary.ts';
import { orderDetail, type OrderDetail } from '../../services/operator-orders.ts';

export const orderPage: ConsolePage = (app, deps) => {
  app.get<{ Params: { id: string } }>(`${CONSOLE}/orders/:id`, async (req, reply) => {
    const d = await orderDetail(deps.ctx, req.params.id);
    const body = html`<section class="card" aria-labelledby="status-h"><h2 id="status-h">Status</h2>
<ul class="summary">${d.summary.map((line) => html`<li class="${line.tone}">${line.text}</li>`)}</ul></section>
${facts(d)}
${orderActionForms(req, d)}
<h2>Payments</h2>${payments(d)}
<h2>Refunds</h2>${refunds(d)}
<h2>Timeline</h2>${orderTimelineList(req, d)}`;
    return sendPage(reply, layout(req, { title: `Order ${d.order.id}`, current: 'orders', body }));
  });
  orderActions(app, deps);
};

function facts({ order, appName }: OrderDetail): Html {
  const fact = (term: string, value: unknown) => html`<dt>${term}</dt><dd>${value}</dd>`;
  return html`<section class="card" aria-labelledby="facts-h"><h2 id="facts-h">Facts</h2><dl class="facts">
${fact('State', stateBadge(order.state))}
${fact('Amount', formatMinor(order.amountMinor, order.currency))}
${fact('App', html`${appName} <span class="muted mono">${order.appId}</span>`)}
${fact('Merchant order no', html`<span class="mono">${order.merchantOrderNo}</span>`)}
${fact('Subject', order.subject)}
${fact('Customer', order.customerId ?? '—')}
${fact('Created', formatTime(order.createdAt))}
${fact('Expires', formatTime(order.expiresAt))}
${fact('Paid', formatTime(order.paidAt) || '—')}
${order.closedAt ? fact('Closed', formatTime(order.closedAt)) : ''}
</dl></section>`;
}

function payments({ attempts }: OrderDetail): Html {
  if (attempts.length === 0) return html`<p class="muted">No payment attempt yet.</p>`;
  return html`<div class="table-wrap"><table><thead><tr><th scope="col">Payment</th><th scope="col">Channel</th><th scope="col">Method</th>
<th scope="col">outTradeNo</th><th scope="col">State</th><th scope="col">Channel trade no</th><th scope="col">Paid</th><th scope="col">Refunded</th></tr></thead>
<tbody>${attempts.map(
    (a) => html`<tr><td class="mono">${a.id}</td><td>${channelLabel(a.channel)}</td><td>${a.method}</td><td class="mono">${a.outTradeNo}</td>
<td>${stateBadge(a.state)}</td><td class="mono">${a.channelTradeNo ?? ''}</td><td>${formatTime(a.paidAt)}</td>
<td class="num">${formatMinor(a.refundedMinor, a.currency)}</td></tr>`,
  )}</tbody></table></div>`;
}

function refunds({ refunds: rows }: OrderDetail): Html {
  if (rows.length === 0) return html`<p class="muted">No refund.</p>`;
  return html`<div class="table-wrap"><table><thead><tr><th scope="col">Refund</th><th scope="col">Kind</th><th scope="col">Refund no</th>
<th scope="col">Amount</th><th scope="col">State</th><th scope="col">Reason</th><th scope="col">Requested</th><th scope="col">Failure</th></tr></thead>
<tbody>${rows.map(
    (r) => html`<tr><td class="mono">${r.id}</td><td>${r.kind}</td><td class="mono">${r.merchantRefundNo ?? r.outRefundNo}</td>
<td class="num">${formatMinor(r.amountMinor, r.currency)}</td><td>${stateBadge(r.state)}</td><td>${r.reason ?? ''}</td>
<td>${formatTime(r.createdAt)}</td><td>${r.failureCode ? `${r.failureCode}: ${r.failureMessage ?? ''}` : ''}</td></tr>`,
  )}</tbody></table></div>`;
}
