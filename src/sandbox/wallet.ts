// The buyer's wallet: the page a phone shows after scanning a WeChat Pay code_url or an Alipay
// qr_code — "Pay ¥12.34 to <merchant>" and a Pay button. Paying goes through the channel's own
// side of the control API (the same `pay` as POST /sandbox/pay), so the ledger, the notification
// and its retries are exactly those of any other payment.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { html, type Html } from '../html.ts';
import type { PayResult, SandboxChannel } from './channel.ts';
import { sendHtml } from './http-replies.ts';
import type { Queryable } from './notification-store.ts';
import { keepRawBodies, rawBodyOf } from './raw-body.ts';
import { formatYuan } from './alipay/wire-format.ts';

/** Where a QR code's link takes the buyer: `?code=<code_url or qr_code>`. */
export const WALLET_PATH = '/sandbox/wallet';
const WALLET_PAY_PATH = '/sandbox/wallet/pay';
/** Both channels' codes are short URLs; anything longer was not made by the sandbox. */
const CODE_CHARS_MAX = 512;

const CHANNEL_NAMES: Readonly<Record<string, string>> = { wechatpay: 'WeChat Pay', alipay: 'Alipay' };

interface ScannedTrade {
  channel: 'wechatpay' | 'alipay';
  /** The code_url or qr_code that was scanned. */
  code: string;
  /** The merchant as the control API names it (WeChat mch_id, Alipay app_id). */
  mchId: string;
  /** Who the buyer is shown to pay: the WeChat merchant, the Alipay seller. */
  payee: string;
  outTradeNo: string;
  amountMinor: number;
  subject: string;
  state: 'payable' | 'paid' | 'closed';
}

/**
 * The trade behind a code. The control API names trades by out_trade_no; a scan knows only the
 * code, so the wallet reads it from the two QR channels' ledgers. There is no index on the code: a
 * scan is one buyer's click, and a sandbox ledger is small.
 */
async function findScannedTrade(db: Queryable, code: string): Promise<ScannedTrade | undefined> {
  const { rows } = await db.query<ScannedTrade>(
    `SELECT 'wechatpay' AS channel, code_url AS code, mch_id AS "mchId", mch_id AS payee, out_trade_no AS "outTradeNo",
            amount_total AS "amountMinor", description AS subject,
            CASE WHEN state = 'SUCCESS' THEN 'paid'
                 WHEN state = 'CLOSED' OR time_expire <= now() THEN 'closed' ELSE 'payable' END AS state
       FROM sandbox_wechatpay.trades WHERE code_url = $1
     UNION ALL
     SELECT 'alipay', qr_code, app_id, seller_id, out_trade_no, total_amount_fen, subject,
            CASE WHEN status = 'TRADE_SUCCESS' THEN 'paid'
                 WHEN status = 'TRADE_CLOSED' OR time_expire <= now() THEN 'closed' ELSE 'payable' END
       FROM sandbox_alipay.trades WHERE qr_code = $1
     LIMIT 1`,
    [code],
  );
  return rows[0];
}

export function walletRoutes(deps: { db: Queryable; channels: readonly SandboxChannel[] }) {
  const { db, channels } = deps;

  // A repeated ?code= arrives as an array: not a code.
  const scanned = async (code: unknown): Promise<ScannedTrade | undefined> =>
    typeof code === 'string' && code !== '' && code.length <= CODE_CHARS_MAX ? findScannedTrade(db, code) : undefined;

  return async function plugin(app: FastifyInstance): Promise<void> {
    keepRawBodies(app);

    app.get<{ Querystring: { code?: unknown } }>(WALLET_PATH, async (req, reply) => {
      const { code } = req.query;
      if (code === undefined || code === '') return send(reply, 200, scanPage());
      const trade = await scanned(code);
      if (!trade) return send(reply, 404, noPaymentPage());
      return send(reply, 200, tradePage(trade));
    });

    app.post(WALLET_PAY_PATH, async (req, reply) => {
      const code = new URLSearchParams(rawBodyOf(req)).get('code') ?? undefined;
      const trade = await scanned(code);
      const channel = trade && channels.find((c) => c.name === trade.channel);
      if (!trade || !channel) return send(reply, 404, noPaymentPage());
      const result = await channel.pay(trade.outTradeNo, trade.mchId);
      return send(reply, result.outcome === 'paid' ? 200 : 409, paidPage(trade, result));
    });
  };
}

function send(reply: FastifyReply, status: number, page: Html): FastifyReply {
  return sendHtml(reply.header('cache-control', 'no-store'), status, page.value);
}

function noPaymentPage(): Html {
  return page('No payment', 'unknown', html`<p>No payment is waiting behind this code.</p>`);
}

function amountOf(trade: ScannedTrade): string {
  return `¥${formatYuan(trade.amountMinor)}`;
}

function tradePage(trade: ScannedTrade): Html {
  const channel = CHANNEL_NAMES[trade.channel];
  const body = html`<p class="amount">Pay ${amountOf(trade)} to ${trade.payee}</p>
<p>${trade.subject}</p>
<p class="small">${channel} · order ${trade.outTradeNo}</p>
${trade.state === 'payable'
  ? html`<form method="post" action="${WALLET_PAY_PATH}"><input type="hidden" name="code" value="${trade.code}">
<button type="submit">Pay</button></form>`
  : html`<p>This payment is ${trade.state === 'paid' ? 'already paid' : 'closed: it can no longer be paid'}.</p>`}`;
  return page(`${channel} wallet`, trade.state, body);
}

function paidPage(trade: ScannedTrade, result: PayResult): Html {
  const channel = CHANNEL_NAMES[trade.channel];
  if (result.outcome === 'paid') {
    return page(`${channel} wallet`, 'paid', html`<p class="amount">Paid ${amountOf(trade)} ✓</p>
<p>to ${trade.payee}, for ${trade.subject}</p>
<p class="small">Transaction ${result.trade.transactionId ?? ''}. The merchant has been notified; you can close this page.</p>`);
  }
  const why = result.outcome === 'refused' ? result.message : `the bank answered ${result.outcome}`;
  return page(`${channel} wallet`, 'refused', html`<p>Not paid: ${why}.</p>`);
}

function scanPage(): Html {
  return page('Sandbox wallet', 'empty', html`<p>Scan a code: paste a WeChat Pay code_url or an Alipay qr_code.</p>
<form method="get" action="${WALLET_PATH}"><label for="code">Payment code</label>
<input id="code" name="code" required maxlength="${CODE_CHARS_MAX}"><button type="submit">Open</button></form>`);
}

function page(title: string, state: string, body: Html): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="icon" href="data:,">
<style>
body { font-family: system-ui, sans-serif; margin: 0; background: #eef1f4; color: #1b1f24; }
main { max-width: 26rem; margin: 0 auto; padding: 1.5rem 1rem; }
.amount { font-size: 1.6rem; font-weight: 700; margin: .5rem 0; overflow-wrap: anywhere; }
.small { color: #5b6470; font-size: .9rem; overflow-wrap: anywhere; }
button { font: inherit; font-size: 1.2rem; width: 100%; padding: .75rem; border: 0; border-radius: 8px; background: #17733a; color: #fff; cursor: pointer; }
input { font: inherit; width: 100%; padding: .5rem; margin: .25rem 0 .75rem; box-sizing: border-box; }
:focus-visible { outline: 3px solid #f2a900; outline-offset: 2px; }
</style></head>
<body><main data-state="${state}">
<h1>${title}</h1>
${body}
</main></body></html>`;
}
