// The demo shop's HTML. Every value goes through `html` (escaped); the only raw markup is the QR
// code's SVG, which uqr draws from the code alone. The status and webhook fragments are rendered
// here for the page and for /status alike, so the live update and a reload show the same thing.
import { renderSVG } from 'uqr';
import { html, raw, formatMinor, formatTime, type Html } from '../html.ts';
import type { PaycenterPayAction, PaycenterPayment } from '../client/types.ts';
import { WALLET_PATH } from '../sandbox/wallet.ts';
import { channelLabel } from '../domain/order-summary.ts';
import { PRODUCTS, QUANTITY_MAX, type PayChoice } from './catalogue.ts';
import type { ShopOrderView } from './shop.ts';

export const DEMO = '/demo';
export const DEMO_SCRIPT = `${DEMO}/assets/demo.js`;
export const DEMO_STYLESHEET = `${DEMO}/assets/demo.css`;

export const orderPath = (orderId: string) => `${DEMO}/orders/${encodeURIComponent(orderId)}`;

/** The order can still be paid here; the pay section is shown only then. */
export function isPayable(state: string): boolean {
  return state === 'CREATED' || state === 'PAYING';
}

/**
 * Nothing more will change on the page: the order is PAID or CLOSED and the shop has received the
 * event that says so (the live update stops then).
 */
export function isSettled(view: ShopOrderView): boolean {
  const { state } = view.order;
  return (state === 'PAID' || state === 'CLOSED') && view.webhooks.some((w) => w.orderState === state);
}

function layout(title: string, body: Html, attributes: Html = html``): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Paycenter demo shop</title><link rel="stylesheet" href="${DEMO_STYLESHEET}">
<link rel="icon" href="data:,">
<script src="${DEMO_SCRIPT}" defer></script></head>
<body><a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="${DEMO}">Demo tea shop</a>
<span class="demo-sandbox">Sandbox: simulated banks, no real money</span></header>
<main id="main" tabindex="-1"${attributes}>
${body}
</main></body></html>`;
}

export function shopPage(cartId: string, error?: string): Html {
  return layout(
    'Shop',
    html`<h1>Demo tea shop</h1>
<p class="muted">A shop that takes payments through Paycenter, with the sandbox playing WeChat Pay, Alipay and UnionPay.</p>
${error ? html`<div class="notice error" role="alert">${error}</div>` : ''}
<form id="cart" class="card demo-cart" method="post" action="${DEMO}/orders">
<input type="hidden" name="cart" value="${cartId}">
<fieldset><legend>Your cart</legend>
${PRODUCTS.map(
  (p, i) => html`<div class="demo-product">
<label for="qty-${p.id}">${p.name} <span class="demo-price">${formatMinor(p.priceMinor)}</span></label>
<input id="qty-${p.id}" name="qty.${p.id}" type="number" inputmode="numeric" min="0" max="${QUANTITY_MAX}" value="${i === 0 ? 1 : 0}">
</div>`,
)}
</fieldset>
<button type="submit">Submit order</button>
<p class="muted">Click it five times, fast. Every click sends this same cart to Paycenter, which makes one order of it:
its duplicate-submission guard answers the copies with the order it already has.</p>
</form>
<section id="submissions" class="card" aria-live="polite" hidden>
<h2>What Paycenter answered</h2>
<p id="submissions-summary" class="demo-summary"></p>
<ol id="submissions-answers" class="demo-answers"></ol>
<p id="submissions-next"></p>
</section>`,
  );
}

const SUBMITTED_NOTICES: Readonly<Record<string, string>> = {
  created: 'Order submitted: Paycenter created it.',
  duplicate: 'This cart was submitted before: Paycenter recognised the duplicate and this is the order it already had.',
};

export function orderPage(
  view: ShopOrderView,
  choices: readonly PayChoice[],
  opts: { submitted?: string | undefined; error?: string | undefined } = {},
): Html {
  const { order } = view;
  const notice = opts.submitted ? SUBMITTED_NOTICES[opts.submitted] : undefined;
  const payable = isPayable(order.state);
  return layout(
    `Order ${order.id}`,
    html`<h1>Your order <span class="mono">${order.id}</span></h1>
${notice ? html`<div class="notice ok" role="status">${notice}</div>` : ''}
${opts.error ? html`<div class="notice error" role="alert">${opts.error}</div>` : ''}
<div class="demo-columns">
<div>
<section class="card" aria-labelledby="order-heading">
<h2 id="order-heading">Order</h2>
<dl class="facts">
<dt>Items</dt><dd>${order.subject}</dd>
<dt>Amount</dt><dd>${formatMinor(order.amount, order.currency)}</dd>
<dt>Shop order number</dt><dd class="mono">${order.merchantOrderNo}</dd>
<dt>Pay before</dt><dd>${formatTime(order.expiresAt)}</dd>
</dl>
</section>
${payable ? paySection(view, choices) : ''}
</div>
<div>
<section id="status" class="card" aria-live="polite">${statusFragment(view)}</section>
<section id="webhooks" class="card" aria-live="polite">${webhooksFragment(view)}</section>
</div>
</div>
<p class="demo-links"><a href="${orderPath(order.id)}">Refresh</a> <a href="${DEMO}">Back to the shop</a></p>`,
    // Read by demo.js: where to poll, and whether there is anything left to wait for.
    html` data-status-url="${orderPath(order.id)}/status" data-settled="${String(isSettled(view))}"`,
  );
}

/** The newest attempt, which is the one the buyer is paying with (older ones were switched away from). */
function currentPayment(view: ShopOrderView): PaycenterPayment | undefined {
  return view.order.payments.reduce<PaycenterPayment | undefined>((last, p) => (!last || p.createdAt >= last.createdAt ? p : last), undefined);
}

function paySection(view: ShopOrderView, choices: readonly PayChoice[]): Html {
  const { order } = view;
  const payment = currentPayment(view);
  const open = payment && payment.state === 'PENDING' && payment.action ? payment : undefined;
  return html`<section id="pay" class="card" aria-labelledby="pay-heading">
<h2 id="pay-heading">Pay</h2>
${open ? html`<div class="demo-action">${actionBlock(open, open.action!)}</div>` : ''}
<form method="post" action="${orderPath(order.id)}/pay" class="demo-choices">
<fieldset><legend>${open ? 'Or pay another way' : 'Choose how to pay'}</legend>
${choices.map(
  (c) => html`<button type="submit" name="method" value="${c.value}"${open && open.channel === c.channel && open.method === c.method ? html` class="secondary"` : ''}>${c.label}</button>`,
)}
</fieldset>
</form>
</section>`;
}

function actionBlock(payment: PaycenterPayment, action: PaycenterPayAction): Html {
  const channel = channelLabel(payment.channel);
  const comesBack = html`<p class="muted">The cashier sends you back to this page once you have paid.</p>`;
  switch (action.type) {
    case 'qr_code':
      return html`<p>Scan with ${channel} to pay ${formatMinor(payment.amount, payment.currency)}:</p>
<figure class="demo-qr">
<div role="img" aria-label="${channel} QR code">${raw(renderSVG(action.codeUrl))}</div>
<figcaption class="mono">${action.codeUrl}</figcaption>
</figure>
<p><a class="button" href="${WALLET_PATH}?code=${encodeURIComponent(action.codeUrl)}" target="_blank" rel="noopener">Open in sandbox wallet</a></p>
<p class="muted">No phone here: the sandbox wallet is the page a phone would show after scanning. It opens in a new tab; this page keeps watching the payment.</p>`;
    case 'redirect':
      return html`<p><a class="button" href="${action.url}">Continue to the ${channel} cashier</a></p>${comesBack}`;
    case 'form_post':
      return html`<form method="post" action="${action.url}">
${Object.entries(action.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<button type="submit">Continue to the ${channel} cashier</button>
</form>${comesBack}`;
  }
}

export function statusFragment(view: ShopOrderView): Html {
  const { order } = view;
  const payment = currentPayment(view);
  return html`<h2>Status at Paycenter</h2>
<p class="demo-state"><span class="badge ${order.state}" data-order-state="${order.state}">${order.state}</span></p>
${view.transitions.length > 0
  ? html`<ol class="demo-transitions" aria-label="State changes">${view.transitions.map(
      (t) => html`<li><span class="badge ${t.to}">${t.to}</span> <span class="muted">${formatTime(t.at)}</span></li>`,
    )}</ol>`
  : ''}
${payment
  ? html`<p>Payment: ${channelLabel(payment.channel)} (${payment.method}) <span class="badge ${payment.state}">${payment.state}</span>
<span class="mono muted">${payment.outTradeNo}</span></p>`
  : html`<p class="muted">No payment yet.</p>`}`;
}

export function webhooksFragment(view: ShopOrderView): Html {
  return html`<h2>Webhooks received by the shop</h2>
${view.webhooks.length === 0
  ? html`<p class="muted">None yet. Paycenter posts each event of this order to the shop's /demo/webhook.</p>`
  : html`<ul class="demo-webhooks">${view.webhooks.map(
      (w) => html`<li data-event-type="${w.type}">
<strong>${w.type}</strong> <span class="muted">${formatTime(w.receivedAt)}</span>
<span class="badge ok" title="Signature checked with the endpoint's secret by the client kit">verified ✓</span>
<br>order state in it: <span class="badge ${w.orderState}">${w.orderState}</span> <span class="mono muted">${w.eventId}</span>
</li>`,
    )}</ul>
<p class="muted">Each was verified (Standard Webhooks signature, the endpoint's whsec_ secret) and applied once, through the client kit's inbox.</p>`}`;
}

export function messagePage(title: string, message: string): Html {
  return layout(title, html`<h1>${title}</h1><p>${message}</p><p><a href="${DEMO}">Back to the shop</a></p>`);
}
