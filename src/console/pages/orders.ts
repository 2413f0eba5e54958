// The order search: filters in a GET form (bookmarkable, no script), newest first, 50 a page,
// continued by a (created_at, id) cursor. An exact order id goes straight to the order.
import type { FastifyRequest } from 'fastify';
import type { ConsolePage } from '../index.ts';
import { formatMinor, formatTime, html, type Html } from '../../html.ts';
import { CONSOLE, layout, queryString, sendPage } from '../page.ts';
import { PaycenterError } from '../../domain/errors.ts';
import { ORDER_STATES, type OrderState } from '../../domain/states.ts';
import { CHANNEL_NAMES } from '../../domain/channels.ts';
import { channelLabel } from '../../domain/order-summary.ts';
import type { OrderFilter, OrderListRow } from '../../store/console-orders.ts';
import { findOrders, requireAnyOrder } from '../../services/operator-orders.ts';

const ORDER_ID = /^ord_[A-Za-z0-9_-]{1,64}$/;
const CURSOR = /^([1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z),(ord_[A-Za-z0-9_-]{1,64})$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
const TEXT_FILTER_CHARS_MAX = 128;
/** The form's fields, which the "Older" link carries along. */
const FIELDS = ['id', 'merchantOrderNo', 'customerId', 'state', 'channel', 'from', 'to'] as const;
type Form = Partial<Record<(typeof FIELDS)[number], string>>;

export function stateBadge(state: string): Html {
  return html`<span class="badge ${state}">${state}</span>`;
}

export const orderPath = (id: string) => `${CONSOLE}/orders/${encodeURIComponent(id)}`;

function invalid(field: string, message: string): PaycenterError {
  return new PaycenterError('invalid_request', message, { field });
}

function text(form: Form, field: 'merchantOrderNo' | 'customerId'): string | undefined {
  const value = form[field];
  if (value !== undefined && value.length > TEXT_FILTER_CHARS_MAX) throw invalid(field, `${field}: at most ${TEXT_FILTER_CHARS_MAX} characters.`);
  // PostgreSQL's text cannot hold NUL: it would fail the statement instead of matching nothing.
  if (value?.includes('\u0000')) throw invalid(field, `${field}: no NUL character.`);
  return value;
}

/** A UTC day as typed in a date field; `end` gives the start of the next day (the range includes `to`). */
function day(form: Form, field: 'from' | 'to', end: boolean): Date | undefined {
  const value = form[field];
  if (value === undefined) return undefined;
  const at = new Date(`${value}T00:00:00Z`);
  if (!DAY.test(value) || Number.isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== value) {
    throw invalid(field, `Created ${field}: a date as YYYY-MM-DD.`);
  }
  return end ? new Date(at.getTime() + DAY_MS) : at;
}

/** An ISO instant whose fields are all in range: it reads back unchanged (to the second). */
function isRealInstant(iso: string): boolean {
  const at = new Date(iso);
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 19) === iso.slice(0, 19);
}

function parseFilter(form: Form, after: string | undefined): OrderFilter {
  const { state, channel } = form;
  if (state !== undefined && !(ORDER_STATES as readonly string[]).includes(state)) throw invalid('state', `State: one of ${ORDER_STATES.join(', ')}.`);
  if (channel !== undefined && !(CHANNEL_NAMES as readonly string[]).includes(channel)) throw invalid('channel', `Channel: one of ${CHANNEL_NAMES.join(', ')}.`);
  const cursor = after === undefined ? undefined : CURSOR.exec(after);
  // The shape alone lets "2024-13-45T…" through, which PostgreSQL refuses as a timestamp.
  if (cursor === null || (cursor && !isRealInstant(cursor[1]!))) throw invalid('after', 'This page link is damaged; start the search again.');
  return {
    merchantOrderNo: text(form, 'merchantOrderNo'),
    customerId: text(form, 'customerId'),
    state: state as OrderState | undefined,
    channel,
    createdFrom: day(form, 'from', false),
    createdBefore: day(form, 'to', true),
    after: cursor && { createdAt: cursor[1]!, id: cursor[2]! },
  };
}

export const ordersPage: ConsolePage = (app, { ctx }) => {
  app.get(`${CONSOLE}/orders`, async (req, reply) => {
    const form = readForm(req);
    try {
      if (form.id !== undefined) {
        if (!ORDER_ID.test(form.id)) throw invalid('id', 'Order id: ord_ followed by letters, digits, - or _.');
        const order = await requireAnyOrder(ctx, form.id);
        return reply.code(303).header('location', orderPath(order.id)).send();
      }
      const page = await findOrders(ctx, parseFilter(form, queryString(req, 'after')));
      return sendPage(reply, ordersLayout(req, form, results(form, page.rows, page.more, queryString(req, 'after') !== undefined)));
    } catch (err) {
      if (!(err instanceof PaycenterError)) throw err;
      return sendPage(reply, ordersLayout(req, form, html``, `${err.message} (${err.code})`), err.status);
    }
  });
};

/** The filled-in fields, trimmed; empty ones are no filter. */
function readForm(req: FastifyRequest): Form {
  const form: Form = {};
  for (const field of FIELDS) {
    const value = queryString(req, field)?.trim();
    if (value) form[field] = value;
  }
  return form;
}

function ordersLayout(req: FastifyRequest, form: Form, rows: Html, error?: string): Html {
  return layout(req, { title: 'Orders', current: 'orders', error, body: html`${filterForm(form)}${rows}` });
}

function filterForm(form: Form): Html {
  const input = (name: keyof Form, label: string, type = 'text') =>
    html`<label for="f-${name}">${label}<input id="f-${name}" name="${name}" type="${type}" value="${form[name] ?? ''}"></label>`;
  const select = (name: 'state' | 'channel', label: string, options: readonly string[], show: (o: string) => string) =>
    html`<label for="f-${name}">${label}<select id="f-${name}" name="${name}"><option value="">Any</option>${options.map(
      (o) => html`<option value="${o}"${form[name] === o ? html` selected` : ''}>${show(o)}</option>`,
    )}</select></label>`;
  return html`<form class="filters card" method="get" action="${CONSOLE}/orders" role="search" aria-label="Find orders">
${input('id', 'Order id')}${input('merchantOrderNo', 'Merchant order no')}${input('customerId', 'Customer id')}
${select('state', 'State', ORDER_STATES, (s) => s)}${select('channel', 'Channel', CHANNEL_NAMES, channelLabel)}
${input('from', 'Created from', 'date')}${input('to', 'Created to', 'date')}
<button type="submit">Search</button> <a href="${CONSOLE}/orders">Clear</a>
</form>`;
}

function results(form: Form, rows: OrderListRow[], more: boolean, continued: boolean): Html {
  if (rows.length === 0) return html`<p class="card">No order matches${continued ? ' beyond the previous page' : ''}.</p>`;
  const link = (after?: string) => {
    const params = new URLSearchParams(Object.entries(form) as [string, string][]);
    if (after) params.set('after', after);
    return `${CONSOLE}/orders?${params}`;
  };
  const last = rows.at(-1)!.cursor;
  return html`<div class="table-wrap"><table>
<caption class="visually-hidden">Orders, newest first</caption>
<thead><tr><th scope="col">Created (UTC)</th><th scope="col">Order</th><th scope="col">App</th><th scope="col">Merchant order no</th>
<th scope="col">Amount</th><th scope="col">State</th><th scope="col">Customer</th><th scope="col">Channels</th></tr></thead>
<tbody>${rows.map(
    (o) => html`<tr><td>${formatTime(o.createdAt)}</td><td><a class="mono" href="${orderPath(o.id)}">${o.id}</a></td><td>${o.appName}</td>
<td class="mono">${o.merchantOrderNo}</td><td class="num">${formatMinor(o.amountMinor, o.currency)}</td><td>${stateBadge(o.state)}</td>
<td>${o.customerId ?? ''}</td><td>${(o.channels ?? '').split(' ').filter(Boolean).map(channelLabel).join(', ')}</td></tr>`,
  )}</tbody></table></div>
<nav class="pager" aria-label="Pages">${continued ? html`<a href="${link()}">← Newest</a>` : ''}${
    more ? html`<a href="${link(`${last.createdAt},${last.id}`)}" rel="next">Older →</a>` : ''
  }</nav>`;
}
