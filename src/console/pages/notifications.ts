// Refused notifications: what reached /notify/* and did not check out (a forgery, a wrong
// merchant, an amount that does not match). The evidence is shown masked.
import type { ConsolePage } from '../index.ts';
import { html, formatTime } from '../../html.ts';
import { CONSOLE, layout, queryString, sendPage } from '../page.ts';
import { maskBody, maskHeaders } from '../../domain/masking.ts';
import { listRefusedNotifications, type RefusedNotificationRow } from '../../store/console-lists.ts';
import { PAGE_SIZE, badge, cursorNumber, orderLink, pageOf, pager } from './parts.ts';

const NOTIFICATIONS = `${CONSOLE}/notifications`;

function evidence(n: RefusedNotificationRow) {
  const body = maskBody(n.body);
  return html`<details class="evidence"><summary>Headers and body</summary>
<dl class="facts">${maskHeaders(n.headers).map(([name, value]) => html`<dt>${name}</dt><dd class="mono">${value}</dd>`)}</dl>
<p class="muted">Body (${body.format}; signatures, card and identity fields masked):</p>
<pre>${body.text}</pre>
</details>`;
}

export const notificationsPage: ConsolePage = (app, { ctx }) => {
  app.get(NOTIFICATIONS, async (req, reply) => {
    const { rows, more } = pageOf(await listRefusedNotifications(ctx.pool, cursorNumber(req, 'before'), PAGE_SIZE + 1));
    const body = html`<p class="muted">Notifications that failed verification were stored, answered with an error, and
each one with a known order triggered an active query; none changed an order.</p>
${rows.length === 0
  ? html`<p class="muted">No refused notification.</p>`
  : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Received</th><th scope="col">Channel</th><th scope="col">Refused because</th><th scope="col">out_trade_no</th><th scope="col">Order</th><th scope="col">Evidence</th></tr></thead>
<tbody>${rows.map(
      (n) => html`<tr><td>${formatTime(n.receivedAt)}</td><td>${n.channel}</td><td>${badge('refused')} <span class="mono">${n.refusalReason ?? ''}</span></td>
<td class="mono">${n.outTradeNo ?? ''}${n.outRefundNo ? html`<br>refund ${n.outRefundNo}` : ''}</td>
<td>${n.orderId ? orderLink(n.orderId) : html`<span class="muted">unknown</span>`}</td><td>${evidence(n)}</td></tr>`,
    )}</tbody></table></div>`}
${pager(NOTIFICATIONS, {}, { name: 'before', current: queryString(req, 'before'), next: more ? String(rows.at(-1)!.id) : null })}`;
    return sendPage(reply, layout(req, { title: 'Refused notifications', current: 'notifications', body }));
  });
};
