// The order's one timeline, in time order: transitions, channel calls, notifications (with their
// masked evidence), events with their deliveries, and operator actions.
import type { FastifyRequest } from 'fastify';
import { formatMinor, formatTime, html, type Html } from '../../html.ts';
import { stateBadge } from './orders.ts';
import { redeliverForm } from './order-actions.ts';
import { channelLabel } from '../../domain/order-summary.ts';
import { maskBody, maskHeaders } from '../../domain/masking.ts';
import { urlForLog } from '../../delivery/log-url.ts';
import type { NotificationEvidence, OrderActionRow, OrderEventRow } from '../../store/console-orders.ts';
import type { ChannelCallEntry, OrderDetail, TransitionEntry } from '../../services/operator-orders.ts';

interface Item {
  at: Date;
  /** The timeline's classes: refused, problem, operator. */
  kind?: 'refused' | 'problem' | 'operator';
  body: Html;
}

export function orderTimelineList(req: FastifyRequest, d: OrderDetail): Html {
  const items: Item[] = [
    ...d.timeline.map((e) => (e.kind === 'transition' ? transitionItem(e, d) : callItem(e, d))),
    ...d.notifications.map(notificationItem),
    ...d.events.map((e) => eventItem(req, d.order.id, e)),
    ...d.actions.map(actionItem),
  ];
  // Stable: entries of the same instant keep the order their sources gave them.
  items.sort((a, b) => a.at.getTime() - b.at.getTime());
  return html`<ol class="timeline">${items.map(
    (i) => html`<li${i.kind ? html` class="${i.kind}"` : ''}><span class="when">${formatTime(i.at)}</span> ${i.body}</li>`,
  )}</ol>`;
}

function transitionItem(e: TransitionEntry, d: OrderDetail): Item {
  const at = new Date(e.at);
  const move = html`${e.from ? html`${stateBadge(e.from)} → ` : ''}${stateBadge(e.to)}`;
  const problem = e.to === 'EXCEPTION' || e.to === 'FAILED' ? 'problem' : undefined;
  if (e.entity === 'order') return { at, kind: problem, body: html`<strong>Order</strong> ${move}: ${e.reason}` };
  if (e.entity === 'attempt') {
    const a = d.attempts.find((x) => x.id === e.entityId);
    const opened = e.from === null && a ? html` opened: ${channelLabel(a.channel)} ${a.method}, outTradeNo <span class="mono">${a.outTradeNo}</span>` : html` ${move}: ${e.reason}`;
    return { at, kind: problem, body: html`<strong>Payment</strong> <span class="mono">${e.entityId}</span>${opened}` };
  }
  const r = d.refunds.find((x) => x.id === e.entityId);
  const what = e.from === null && r ? html` of ${formatMinor(r.amountMinor, r.currency)} (${r.kind}) requested: ${r.reason ?? e.reason}` : html` ${move}: ${e.reason}`;
  return { at, kind: problem, body: html`<strong>Refund</strong> <span class="mono">${e.entityId}</span>${what}` };
}

function callItem(e: ChannelCallEntry, d: OrderDetail): Item {
  const channel = d.attempts.find((a) => a.id === e.attemptId)?.channel ?? 'channel';
  return {
    at: new Date(e.at),
    kind: e.outcome === 'unknown' ? 'problem' : undefined,
    body: html`<strong>${channelLabel(channel)} ${e.operation.replace('_', ' ')}</strong> (payment <span class="mono">${e.attemptId}</span>) → ${e.outcome}${
      e.detail ? html`: ${e.detail}` : ''
    } <span class="muted">· ${e.latencyMs} ms</span>`,
  };
}

function notificationItem(n: NotificationEvidence): Item {
  const body = maskBody(n.body);
  const headers = maskHeaders(n.headers).map(([name, value]) => `${name}: ${value}`).join('\n');
  const what = n.verified
    ? html`verified, ${n.outcome}`
    : html`<span class="badge refused">refused</span> ${n.refusalReason ?? ''}`;
  return {
    at: n.receivedAt,
    kind: n.verified ? undefined : 'refused',
    body: html`<strong>Notification from ${channelLabel(n.channel)}</strong>: ${what}${n.notificationId ? html` <span class="muted mono">${n.notificationId}</span>` : ''}
<details><summary>Headers and body (secrets masked)</summary><pre>${headers || '(no evidence headers kept)'}</pre><pre>${body.text}</pre></details>`,
  };
}

function eventItem(req: FastifyRequest, orderId: string, e: OrderEventRow): Item {
  const dead = e.deliveries.some((d) => d.state === 'dead');
  const deliveries = e.deliveries.length === 0
    ? html`<p class="muted">No delivery: no webhook endpoint or broker was configured for it.</p>`
    : html`<ul>${e.deliveries.map(
        (d) => html`<li>${d.target}${d.endpointUrl ? html` <span class="mono">${urlForLog(d.endpointUrl)}</span>` : ''}: <span class="badge ${d.state}">${d.state}</span>
${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${d.lastError ? html`, last error: ${d.lastError}` : ''}</li>`,
      )}</ul>`;
  return {
    at: e.createdAt,
    kind: dead ? 'problem' : undefined,
    body: html`<strong>Event ${e.type}</strong> #${e.sequence} <span class="muted mono">${e.id}</span>${deliveries}${redeliverForm(req, orderId, e)}`,
  };
}

function actionItem(a: OrderActionRow): Item {
  const outcome = a.outcome === null ? 'not finished' : a.outcome;
  return {
    at: a.at,
    kind: 'operator',
    body: html`<strong>Operator ${a.username}</strong>: ${a.action.replaceAll('_', ' ')}${a.target ? html` <span class="mono">${a.target}</span>` : ''} — “${a.note}” → ${outcome}`,
  };
}
