// The browser side of the gateway (channels.md §3.4, §3.9): frontTransReq.do receives the
// merchant's auto-submitted consume form and answers the cashier; the cashier's Pay and Cancel
// buttons end with the browser carried back to frontUrl. Only Pay sends a backUrl notification.
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../logger.ts';
import { sendHtml } from '../http-replies.ts';
import { keepRawBodies, rawBodyOf } from '../raw-body.ts';
import { parseConsume } from './consume-request.ts';
import type { MerchantDirectory } from './merchants.ts';
import { CASHIER_CANCEL_PATH, CASHIER_PAY_PATH, cashierPage, errorPage, frontReturnPage } from './pages.ts';
import { frontReturnFields, payTrade, type PaymentDeps } from './payment.ts';
import { MER_ID, ORDER_ID } from './field-rules.ts';
import { refusal } from './resp-codes.ts';
import { readSignedRequest } from './signed-request.ts';
import { findTrade, insertTradeOrFindExisting, type TradeRow } from './store.ts';
import { parseForm } from './wire-format.ts';

const FRONT_TRANS_PATH = '/sandbox/unionpay/gateway/api/frontTransReq.do';

export interface FrontRouteDeps {
  log: Logger;
  merchants: MerchantDirectory;
  payments: PaymentDeps;
}

export function unionpayFrontRoutes(deps: FrontRouteDeps) {
  const { log, merchants, payments } = deps;
  const { db, signer } = payments;

  return async function plugin(app: FastifyInstance): Promise<void> {
    keepRawBodies(app);

    app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status < 500) return sendHtml(reply, status, errorPage(refusal('10', err.message)));
      log.error({ err, url: req.url }, 'sandbox unionpay: browser request failed');
      return sendHtml(reply, 500, errorPage(refusal('06', 'sandbox internal error')));
    });

    app.post(FRONT_TRANS_PATH, async (req, reply) => {
      const now = new Date();
      const request = await readSignedRequest(req, merchants);
      if (!request.ok) return sendHtml(reply, 200, errorPage(request.refusal));
      const parsed = parseConsume(request.fields, now);
      if (!parsed.ok) return sendHtml(reply, 200, errorPage(parsed.refusal));
      const { order } = parsed;
      const { created, trade } = await insertTradeOrFindExisting(db, { ...order, createdAt: now });
      // The same form posted again (a reload, the back button) reopens the cashier; anything else is a duplicate.
      if (!created && trade.requestFingerprint !== order.requestFingerprint) {
        return sendHtml(reply, 200, errorPage(refusal('12', `orderId ${order.orderId} is already used by another transaction`)));
      }
      return sendHtml(reply, 200, cashierPage(trade, now));
    });

    app.post(CASHIER_PAY_PATH, async (req, reply) => {
      const trade = await cashierTrade(rawBodyOf(req));
      if (!trade) return sendHtml(reply, 404, errorPage(refusal('34', 'no such transaction at the cashier')));
      const result = await payTrade(payments, trade, new Date());
      // A refused payment (a second click, or past payTimeout) is shown as the trade now stands.
      const current = result.outcome === 'paid' ? result.trade : ((await findTrade(db, trade.merId, trade.orderId)) ?? trade);
      const whyNotPaid = result.outcome === 'refused' ? result.message : '';
      return sendHtml(reply, 200, frontReturnPage(current.frontUrl, await frontReturnFields(current, whyNotPaid, await signer())));
    });

    // The buyer leaves without paying: the trade stays unpaid (it may still be paid until payTimeout).
    app.post(CASHIER_CANCEL_PATH, async (req, reply) => {
      const trade = await cashierTrade(rawBodyOf(req));
      if (!trade) return sendHtml(reply, 404, errorPage(refusal('34', 'no such transaction at the cashier')));
      const fields = await frontReturnFields(trade, 'the buyer cancelled the payment', await signer());
      return sendHtml(reply, 200, frontReturnPage(trade.frontUrl, fields));
    });
  };

  /** The trade the cashier's form names by merId and orderId (hidden fields of cashierPage); only well-formed ids reach the ledger. */
  async function cashierTrade(body: string): Promise<TradeRow | undefined> {
    const form = parseForm(body);
    const { merId, orderId } = form.ok ? form.fields : {};
    return merId !== undefined && orderId !== undefined && MER_ID.test(merId) && ORDER_ID.test(orderId)
      ? findTrade(db, merId, orderId)
      : undefined;
  }
}
