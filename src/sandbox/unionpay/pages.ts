// The HTML the buyer's browser sees at the simulated gateway: the cashier, the error page, and
// the auto-submitting form that carries the signed front return back to the merchant's frontUrl.
// Tests read them too: every page carries data-resp-code / data-state attributes to assert on.
import type { AcpFields } from './acp-signature.ts';
import { RESP_MSG, type Refusal } from './resp-codes.ts';
import type { TradeRow } from './store.ts';
import { isPastPayTimeout } from './messages.ts';

export const CASHIER_PAY_PATH = '/sandbox/unionpay/cashier/pay';
export const CASHIER_CANCEL_PATH = '/sandbox/unionpay/cashier/cancel';

/**
 * Text and attribute values. CR and LF are written as character references: an HTML parser turns
 * a raw CR LF into LF, which would change signPubKeyCert (a PEM with \r\n) and break the signature.
 */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"'\r\n]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, attributes: Record<string, string>, body: string): string {
  const attrs = Object.entries(attributes).map(([name, value]) => ` data-${name}="${escapeHtml(value)}"`).join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><main${attrs}>
<h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>
`;
}

function hiddenInputs(fields: AcpFields): string {
  return Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
}

function yuan(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

/** Pay and Cancel while the trade is payable; Cancel only (back to the merchant) once past payTimeout. */
export function cashierPage(trade: TradeRow, now: Date): string {
  const state = trade.state === 'PAID' ? 'paid' : isPastPayTimeout(trade, now) ? 'expired' : 'payable';
  const ids = hiddenInputs({ merId: trade.merId, orderId: trade.orderId });
  const payForm = `<form method="post" action="${CASHIER_PAY_PATH}">${ids}<button type="submit">Pay</button></form>`;
  const cancelForm = `<form method="post" action="${CASHIER_CANCEL_PATH}">${ids}<button type="submit">Cancel</button></form>`;
  const notice = {
    payable: '',
    expired: `<p>The payment time-out (payTimeout) has passed: this order can no longer be paid.</p>`,
    paid: `<p>This order is already paid.</p>`,
  }[state];
  return page('UnionPay sandbox cashier', { state, 'mer-id': trade.merId, 'order-id': trade.orderId }, `
<dl>
<dt>Merchant</dt><dd>${escapeHtml(trade.merId)}</dd>
<dt>Order</dt><dd>${escapeHtml(trade.orderId)}</dd>
<dt>Amount</dt><dd data-txn-amt="${trade.txnAmt}">¥${yuan(trade.txnAmt)}</dd>
${trade.payTimeout ? `<dt>Pay before</dt><dd>${escapeHtml(trade.payTimeout.toISOString())}</dd>` : ''}
</dl>
${notice}
${state === 'payable' ? payForm : ''}
${state === 'paid' ? '' : cancelForm}`);
}

/** The gateway refused the message; nothing was created or changed. */
export function errorPage(r: Refusal): string {
  return page('UnionPay sandbox: transaction refused', { 'resp-code': r.respCode }, `
<p>respCode ${r.respCode}: ${escapeHtml(RESP_MSG[r.respCode])}</p>
<p>${escapeHtml(r.detail)}</p>`);
}

/**
 * The browser's way back: an auto-submitting POST of the signed fields to frontUrl (the "return to
 * merchant" step), or a plain result page when the merchant gave no frontUrl.
 */
export function frontReturnPage(frontUrl: string | null, fields: AcpFields): string {
  const respCode = fields.respCode ?? '';
  const result = `<p>respCode ${escapeHtml(respCode)}: ${escapeHtml(fields.respMsg ?? '')}</p>`;
  if (frontUrl === null) return page('UnionPay sandbox: payment result', { 'resp-code': respCode }, result);
  return page('UnionPay sandbox: returning to the merchant', { 'resp-code': respCode }, `${result}
<form id="front-return" method="post" action="${escapeHtml(frontUrl)}">
${hiddenInputs(fields)}
<noscript><button type="submit">Return to the merchant</button></noscript>
</form>
<script>document.getElementById('front-return').submit();</script>`);
}
