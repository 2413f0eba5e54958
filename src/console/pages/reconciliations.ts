// Reconciliation reports: the list, one report's differences grouped by class with what was done
// about each, and running one channel-day now.
import type { ConsolePage } from '../index.ts';
import { html, formatMinor, formatTime } from '../../html.ts';
import { CONSOLE, csrfField, formField, layout, mayPerform, queryString, redirectWithNotice, sendPage } from '../page.ts';
import { beijingDate, DIFFERENCE_CLASSES, type ChannelSide, type DifferenceAction, type DifferenceClass, type LocalSide } from '../../domain/reconciliation.ts';
import {
  getReconciliationReport,
  listReconciliationReports,
  reconcileChannelDay,
  type DifferenceView,
  type ReconciliationView,
} from '../../services/reconciliation.ts';
import { performOperatorAction } from '../../services/operators.ts';
import { PAGE_SIZE, badge, noteField, orderLink, pager } from './parts.ts';

const RECONCILIATIONS = `${CONSOLE}/reconciliations`;

const CLASS_MEANING: Record<DifferenceClass, string> = {
  paid_at_channel_only: 'Paid at the channel, not recorded as paid here.',
  unknown_trade: 'The bill has a payment Paycenter never made.',
  paid_locally_only: 'Paid here, absent from the channel\'s bill.',
  amount_mismatch: 'Paid on both sides, with different amounts.',
  refund_at_channel_only: 'Refunded at the channel, not recorded as succeeded here.',
  unknown_refund: 'The bill has a refund Paycenter never asked for.',
  refund_locally_only: 'Refund succeeded here, absent from (or failed in) the bill.',
  refund_amount_mismatch: 'Refunded on both sides, with different amounts.',
};

const ACTION_MEANING: Record<DifferenceAction, string> = {
  query_enqueued: 'payment queried',
  refund_query_enqueued: 'refund queried',
  order_exception: 'order put in EXCEPTION and queried',
  alert: 'alerted: an operator must look',
};

function reportPath(id: string): string {
  return `${RECONCILIATIONS}/${encodeURIComponent(id)}`;
}

function differencesTotal(r: ReconciliationView): number | null {
  return r.summary ? Object.values(r.summary.differences).reduce((a, b) => a + b, 0) : null;
}

function channelSide(s: ChannelSide | null) {
  if (!s) return html`<span class="muted">not in the bill</span>`;
  return html`${formatMinor(s.amountMinor, s.currency)}<br><span class="mono">${s.channelTradeNo}</span>${s.refundStatus ? html`<br>${s.refundStatus}` : ''}`;
}

function localSide(s: LocalSide | null) {
  if (!s) return html`<span class="muted">no record</span>`;
  return html`${formatMinor(s.amountMinor, s.currency)}<br>${badge(s.state)}${s.orderState ? html` order ${badge(s.orderState)}` : ''}${
    s.paidAt ? html`<br>paid ${formatTime(s.paidAt)}` : ''
  }`;
}

function differenceGroup(cls: DifferenceClass, rows: DifferenceView[]) {
  return html`<section>
<h2>${cls} <span class="muted">(${rows.length})</span></h2>
<p class="muted">${CLASS_MEANING[cls]}</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">out_trade_no</th><th scope="col">out_refund_no</th><th scope="col">Order</th><th scope="col">Action</th><th scope="col">Channel's bill</th><th scope="col">Paycenter</th></tr></thead>
<tbody>${rows.map(
    (d) => html`<tr><td class="mono">${d.outTradeNo ?? ''}</td><td class="mono">${d.outRefundNo ?? ''}</td>
<td>${d.orderId ? orderLink(d.orderId) : html`<span class="muted">none</span>`}</td>
<td>${badge(d.action === 'alert' ? 'bad' : 'pending')} ${ACTION_MEANING[d.action]}</td>
<td>${channelSide(d.channelSide)}</td><td>${localSide(d.localSide)}</td></tr>`,
  )}</tbody></table></div>
</section>`;
}

export const reconciliationsPage: ConsolePage = (app, { ctx }) => {
  const channels = [...ctx.channels.keys()];

  app.get(RECONCILIATIONS, async (req, reply) => {
    const channel = queryString(req, 'channel');
    const before = queryString(req, 'before');
    const { data, hasMore } = await listReconciliationReports(ctx, { ...(channel && { channel }), ...(before && { before }) }, PAGE_SIZE);
    const today = beijingDate(ctx.now());
    const body = html`${mayPerform(req, 'run_reconciliation')
      ? html`<details class="card"><summary>Reconcile a channel's day now</summary>
<form class="stack" method="post" action="${RECONCILIATIONS}">${csrfField(req)}
<label for="run-channel">Channel</label><select id="run-channel" name="channel" required>${channels.map((c) => html`<option>${c}</option>`)}</select>
<label for="run-date">Bill date (Beijing time)</label><input id="run-date" name="date" type="date" required max="${today}" value="${beijingDate(ctx.now(), 1)}">
${noteField('run-note')}
<p><button type="submit">Run reconciliation</button></p>
</form></details>`
      : ''}
<form class="filters" method="get" action="${RECONCILIATIONS}">
<label>Channel <select name="channel"><option value="">All channels</option>${channels.map(
      (c) => html`<option${c === channel ? html` selected` : ''}>${c}</option>`,
    )}</select></label>
<button type="submit">Filter</button>
</form>
${data.length === 0
  ? html`<p class="muted">No reconciliation yet. They run every day for yesterday's bills.</p>`
  : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Bill date</th><th scope="col">Channel</th><th scope="col">State</th><th scope="col">Bill lines</th><th scope="col">Local payments</th><th scope="col">Local refunds</th><th scope="col">Differences</th><th scope="col">Started</th><th scope="col">Report</th></tr></thead>
<tbody>${data.map((r) => {
      const total = differencesTotal(r);
      return html`<tr><td>${r.date}</td><td>${r.channel}</td><td>${badge(r.state)}</td>
<td class="num">${r.summary?.billLines ?? ''}</td><td class="num">${r.summary?.localPayments ?? ''}</td><td class="num">${r.summary?.localRefunds ?? ''}</td>
<td class="num">${total === null ? '' : total > 0 ? html`<strong>${total}</strong>` : '0'}</td><td>${formatTime(r.startedAt)}</td>
<td><a href="${reportPath(r.id)}">Report <span class="visually-hidden">${r.channel} ${r.date}</span></a></td></tr>`;
    })}</tbody></table></div>`}
${pager(RECONCILIATIONS, { channel }, { name: 'before', current: before, next: hasMore ? data.at(-1)!.id : null })}`;
    return sendPage(reply, layout(req, { title: 'Reconciliations', current: 'reconciliations', body }));
  });

  app.get<{ Params: { id: string } }>(`${RECONCILIATIONS}/:id`, async (req, reply) => {
    const report = await getReconciliationReport(ctx, req.params.id);
    const present = DIFFERENCE_CLASSES.filter((c) => report.differences.some((d) => d.class === c));
    const body = html`<dl class="facts card">
<dt>Channel</dt><dd>${report.channel}</dd>
<dt>Bill date</dt><dd>${report.date} (Beijing)</dd>
<dt>State</dt><dd>${badge(report.state)}</dd>
${report.error ? html`<dt>Error</dt><dd>${report.error}</dd>` : ''}
<dt>Started</dt><dd>${formatTime(report.startedAt)}</dd>
<dt>Finished</dt><dd>${formatTime(report.finishedAt)}</dd>
${report.summary
  ? html`<dt>Bill lines</dt><dd>${report.summary.billLines}</dd>
<dt>Local payments</dt><dd>${report.summary.localPayments}</dd>
<dt>Local refunds</dt><dd>${report.summary.localRefunds}</dd>`
  : ''}
</dl>
${report.state === 'DONE' && present.length === 0 ? html`<p class="notice ok">The bill and Paycenter agree: no difference.</p>` : ''}
${present.map((c) => differenceGroup(c, report.differences.filter((d) => d.class === c)))}
<p><a href="${RECONCILIATIONS}">All reconciliations</a></p>`;
    return sendPage(reply, layout(req, { title: `Reconciliation ${report.channel} ${report.date}`, current: 'reconciliations', body }));
  });

  app.post(RECONCILIATIONS, async (req, reply) => {
    const channel = formField(req, 'channel');
    const date = formField(req, 'date');
    const report = await performOperatorAction(ctx, req.operator!, 'run_reconciliation', { target: `${channel} ${date}`, note: formField(req, 'note') }, () =>
      reconcileChannelDay(ctx, channel, date),
    );
    const found = report.differences.length;
    const notice =
      report.state === 'DONE' ? `Reconciled: ${found} difference${found === 1 ? '' : 's'}.` : `Reconciliation ${report.state}: ${report.error ?? ''}`;
    return redirectWithNotice(reply, reportPath(report.id), notice);
  });
};
