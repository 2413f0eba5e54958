// The operator's actions on an order: a POST form each with a required "why" note, drawn only for
// roles that may use it and only where it applies; the services enforce both regardless. Done →
// 303 back to the order with a notice; refused → the console's error page (status and code).
import type { FastifyRequest } from 'fastify';
import type { ConsolePage } from '../index.ts';
import { formatMinor, html, type Html } from '../../html.ts';
import { CONSOLE, csrfField, formField, mayPerform, redirectWithNotice } from '../page.ts';
import { orderPath } from './orders.ts';
import { PaycenterError } from '../../domain/errors.ts';
import { NOTE_LENGTH_MAX } from '../../domain/operators.ts';
import { isValidAmountMinor } from '../../domain/money.ts';
import { yuanToFen } from '../../channels/yuan.ts';
import type { OrderEventRow } from '../../store/console-orders.ts';
import {
  CONSOLE_REFUND_NO,
  newConsoleRefundNo,
  operatorCloseOrder,
  operatorQueryChannel,
  operatorRedeliverEvent,
  operatorRefund,
  operatorResolveException,
  queryableAttempts,
  type OrderDetail,
} from '../../services/operator-orders.ts';

interface ActionForm {
  title: string;
  explain: string;
  /** The note's label: the question the operator answers. */
  why: string;
  button: string;
  danger?: boolean;
  fields?: Html;
}

function actionForm(req: FastifyRequest, orderId: string, path: string, form: ActionForm): Html {
  const noteId = `note-${path.replaceAll('/', '-')}`;
  return html`<form class="stack" method="post" action="${orderPath(orderId)}/${path}">
<h3>${form.title}</h3><p class="muted">${form.explain}</p>${csrfField(req)}${form.fields ?? ''}
<label for="${noteId}">${form.why}</label><textarea id="${noteId}" name="note" required maxlength="${NOTE_LENGTH_MAX}"></textarea>
<p><button type="submit"${form.danger ? html` class="danger"` : ''}>${form.button}</button></p></form>`;
}

/** The forms that apply to the order in its state, for the signed-in operator's role. */
export function orderActionForms(req: FastifyRequest, d: OrderDetail): Html {
  const { order } = d;
  const paid = d.attempts.find((a) => a.id === order.paidAttemptId);
  const refundableMinor = paid ? paid.amountMinor - paid.refundReservedMinor : 0;
  const forms = [
    mayPerform(req, 'query_channel') && queryableAttempts(order, d.attempts).length > 0
      ? actionForm(req, order.id, 'query', {
          title: 'Query the channel',
          explain: "Asks the channel now about every payment it may still know; its answer is applied as an automatic query's would be.",
          why: 'Why query the channel?',
          button: 'Query channel',
        })
      : '',
    mayPerform(req, 'close_order') && (order.state === 'CREATED' || order.state === 'PAYING')
      ? actionForm(req, order.id, 'close', {
          title: 'Close the order',
          explain: 'Closes the open payment at its channel first and confirms with a query; a payment found there makes the order PAID instead.',
          why: 'Why close the order?',
          button: 'Close order',
          danger: true,
        })
      : '',
    mayPerform(req, 'refund') && order.state === 'PAID' && refundableMinor > 0
      ? actionForm(req, order.id, 'refund', {
          title: 'Refund',
          explain: `Returns money to the buyer through the channel; at most ${formatMinor(refundableMinor, order.currency)} (pending refunds count). The note is sent as the refund's reason.`,
          why: 'Why refund?',
          button: 'Refund',
          danger: true,
          fields: html`<input type="hidden" name="refundNo" value="${newConsoleRefundNo(req.operator!.username)}">
<label for="refund-amount">Amount (${order.currency}, e.g. 12.34)</label><input id="refund-amount" name="amount" inputmode="decimal" autocomplete="off" required>`,
        })
      : '',
    mayPerform(req, 'resolve_exception') && order.state === 'EXCEPTION'
      ? actionForm(req, order.id, 'resolve', {
          title: 'Resolve the exception',
          explain: "Queries every payment first: the channel's word decides. Never paid and still unresolved, the order is closed; a payment the channel will not confirm must be taken up with the channel.",
          why: 'Why resolve it now?',
          button: 'Resolve exception',
        })
      : '',
  ].filter((f) => f !== '');
  if (forms.length === 0) {
    return mayPerform(req, 'query_channel') ? html`` : html`<p class="muted">Your role (${req.operator!.role}) may look at orders but not act on them.</p>`;
  }
  return html`<section aria-labelledby="actions-h"><h2 id="actions-h">Actions</h2><div class="actions">${forms}</div></section>`;
}

/** Redelivery of one event, folded away in its timeline entry; shown once a delivery has finished. */
export function redeliverForm(req: FastifyRequest, orderId: string, event: OrderEventRow): Html {
  if (!mayPerform(req, 'redeliver_event') || !event.deliveries.some((d) => d.state !== 'pending')) return html``;
  return html`<details><summary>Redeliver</summary>${actionForm(req, orderId, `events/${event.id}/redeliver`, {
    title: `Redeliver ${event.type} #${event.sequence}`,
    explain: 'Sends the event again to every active target whose delivery finished (delivered or dead).',
    why: `Why redeliver ${event.type} #${event.sequence}?`,
    button: `Redeliver ${event.type} #${event.sequence}`,
  })}</details>`;
}

/** "12.34" → 1234 fen: the console's one place where typed yuan become minor units. */
function amountMinorOf(req: FastifyRequest): number {
  const amountMinor = yuanToFen(formField(req, 'amount').trim());
  if (amountMinor === undefined || !isValidAmountMinor(amountMinor)) {
    throw new PaycenterError('invalid_request', 'Amount: yuan with at most two decimals and more than 0, e.g. 12.34.', { field: 'amount' });
  }
  return amountMinor;
}

function refundNoOf(req: FastifyRequest): string {
  const given = formField(req, 'refundNo');
  if (given === '') return newConsoleRefundNo(req.operator!.username);
  if (!CONSOLE_REFUND_NO.test(given)) throw new PaycenterError('invalid_request', 'This refund form is damaged; reload the order page.', { field: 'refundNo' });
  return given;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const orderActions: ConsolePage = (app, { ctx }) => {
  const base = `${CONSOLE}/orders/:id`;
  type Params = { Params: { id: string } };
  const note = (req: FastifyRequest) => formField(req, 'note');

  app.post<Params>(`${base}/query`, async (req, reply) => {
    const { order, queried } = await operatorQueryChannel(ctx, req.operator!, req.params.id, note(req));
    const notice =
      queried === 0
        ? `Nothing was asked: no payment of this order can still change at its channel. The order is ${order.state}.`
        : `Asked the channel about ${plural(queried, 'payment')}: the order is ${order.state}.`;
    return redirectWithNotice(reply, orderPath(order.id), notice);
  });

  app.post<Params>(`${base}/close`, async (req, reply) => {
    const order = await operatorCloseOrder(ctx, req.operator!, req.params.id, note(req));
    const notice = order.state === 'PAID' ? 'The channel reported a payment while closing: the order is PAID.' : `The order is ${order.state}.`;
    return redirectWithNotice(reply, orderPath(order.id), notice);
  });

  app.post<Params>(`${base}/refund`, async (req, reply) => {
    const input = { amountMinor: amountMinorOf(req), merchantRefundNo: refundNoOf(req), note: note(req) };
    const refund = await operatorRefund(ctx, req.operator!, req.params.id, input);
    const notice = `Refund ${refund.id} of ${formatMinor(refund.amount, refund.currency)} is ${refund.state}; the channel's answer will show on this page.`;
    return redirectWithNotice(reply, orderPath(req.params.id), notice);
  });

  app.post<{ Params: { id: string; eventId: string } }>(`${base}/events/:eventId/redeliver`, async (req, reply) => {
    await operatorRedeliverEvent(ctx, req.operator!, req.params.id, req.params.eventId, note(req));
    return redirectWithNotice(reply, orderPath(req.params.id), `Event ${req.params.eventId} is queued for delivery again.`);
  });

  app.post<Params>(`${base}/resolve`, async (req, reply) => {
    const order = await operatorResolveException(ctx, req.operator!, req.params.id, note(req));
    const how = order.state === 'PAID' ? 'the channel confirmed the payment' : order.state === 'CLOSED' ? 'never paid, it is closed' : 'see the timeline';
    return redirectWithNotice(reply, orderPath(order.id), `Resolved: the order is ${order.state} (${how}).`);
  });
};
