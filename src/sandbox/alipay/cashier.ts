// alipay.trade.page.pay (channels.md §2.7): the buyer's browser brings the signed request to
// gateway.do and gets a small cashier page; opening it creates the trade (WAIT_BUYER_PAY), and
// its Pay button pays it and sends the browser to return_url, with signed parameters, as Alipay's
// synchronous return does. The return says nothing the merchant may trust for state (§2.7).
import type { KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sendHtml } from '../http-replies.ts';
import { keepRawBodies, rawBodyOf } from '../raw-body.ts';
import type { AlipayKey } from './alipay-key.ts';
import { APP_ID } from './apps.ts';
import type { Buyer } from './buyer.ts';
import type { GatewayError, GatewayRequest } from './gateway-request.ts';
import { withSignature } from './signing.ts';
import { findTrade, type PaidTrade, type Queryable, type TradeRow } from './store.ts';
import { recordTradeRequest } from './trade-api.ts';
import { OUT_TRADE_NO } from './trade-request.ts';
import { formatBeijingTime, formatYuan } from './wire-format.ts';

const CASHIER_PAY_PATH = '/sandbox/alipay/cashier/pay';

export interface CashierDeps {
  db: Queryable;
  buyer: Buyer;
  alipayKey: () => Promise<AlipayKey>;
}

/** The answer to a page.pay request: the cashier, or a page saying why there is none. */
export async function openCashier(deps: CashierDeps, request: GatewayRequest, now: Date): Promise<{ status: number; html: string }> {
  if (!request.ok) return { status: 400, html: errorPage(request.error) };
  const recorded = await recordTradeRequest(deps.db, request.app, 'alipay.trade.page.pay', request.params, request.biz, now);
  if (!recorded.ok) return { status: 400, html: errorPage(recorded.error) };
  const scanned = await deps.buyer.scan(recorded.trade, now);
  if (scanned.outcome === 'refused') return { status: 409, html: noPaymentPage(scanned.message) };
  return { status: 200, html: cashierPage(scanned.trade) };
}

/** POST /sandbox/alipay/cashier/pay, the cashier's Pay button. */
export function cashierRoutes(deps: CashierDeps) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    keepRawBodies(app);

    app.post(CASHIER_PAY_PATH, async (req, reply) => {
      const form = new URLSearchParams(rawBodyOf(req));
      const appId = form.get('app_id') ?? '';
      const outTradeNo = form.get('out_trade_no') ?? '';
      // Only a form that could name a trade reaches the ledger.
      const trade = APP_ID.test(appId) && OUT_TRADE_NO.test(outTradeNo) ? await findTrade(deps.db, appId, { outTradeNo }) : undefined;
      if (!trade) return sendHtml(reply, 404, noPaymentPage('No such order.'));
      const now = new Date();
      const paid = await deps.buyer.pay(trade, now);
      if (paid.outcome === 'refused') return sendHtml(reply, 409, noPaymentPage(paid.message));
      const { returnUrl } = paid.trade;
      if (returnUrl === null) {
        return sendHtml(reply, 200, page('Alipay sandbox: paid', `<p>Paid ¥${formatYuan(paid.trade.totalAmountFen)}.</p>`));
      }
      const { privateKey } = await deps.alipayKey();
      return reply.code(303).header('location', await returnLocation(returnUrl, paid.trade, privateKey, now)).send();
    });
  };
}

/** return_url with the synchronous return's signed parameters added to whatever query it had. */
async function returnLocation(returnUrl: string, paid: PaidTrade, alipayKey: KeyObject, now: Date): Promise<string> {
  const params = await withSignature(
    {
      charset: 'utf-8',
      method: 'alipay.trade.page.pay.return',
      version: '1.0',
      timestamp: formatBeijingTime(now),
      app_id: paid.appId,
      auth_app_id: paid.appId,
      seller_id: paid.sellerId,
      out_trade_no: paid.outTradeNo,
      trade_no: paid.tradeNo,
      total_amount: formatYuan(paid.totalAmountFen),
    },
    alipayKey,
  );
  const url = new URL(returnUrl);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

function cashierPage(trade: TradeRow): string {
  const amount = formatYuan(trade.totalAmountFen);
  const rows: Array<[string, string]> = [
    ['Order', trade.outTradeNo],
    ['Subject', trade.subject],
    ['Amount', `¥${amount}`],
    ['Alipay trade', `${trade.tradeNo ?? ''} (${trade.status ?? ''})`],
    ['Pay before', `${formatBeijingTime(trade.timeExpire)} (Beijing time)`],
  ];
  return page(
    'Alipay sandbox cashier',
    `<dl>${rows.map(([name, value]) => `<dt>${name}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>
<form method="post" action="${CASHIER_PAY_PATH}">
<input type="hidden" name="app_id" value="${escapeHtml(trade.appId)}">
<input type="hidden" name="out_trade_no" value="${escapeHtml(trade.outTradeNo)}">
<button type="submit">Pay ¥${amount}</button>
</form>`,
  );
}

function noPaymentPage(message: string): string {
  return page('Alipay sandbox: no payment', `<p>${escapeHtml(message)}</p>`);
}

function errorPage(error: GatewayError): string {
  return page('Alipay sandbox: request refused', `<p>${error.code} ${escapeHtml(error.subCode)}: ${escapeHtml(error.subMsg)}</p>`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1>
${body}
</body></html>
`;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}
