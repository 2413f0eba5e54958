// POST /sandbox/alipay/scan {outTradeNo, appId?}: the buyer scans a precreate QR code (or opens a
// page.pay cashier) without paying, so a test can hold a trade that exists but is unpaid
// (WAIT_BUYER_PAY) — the state in which query and close start to see it (channels.md §2.6).
import type { FastifyInstance } from 'fastify';
import { sendControlError } from '../http-replies.ts';
import { keepRawBodies, parseJsonBody } from '../raw-body.ts';
import { findTradeForBuyer, type Buyer } from './buyer.ts';
import { ledgerTradeOf } from './control.ts';
import type { Queryable } from './store.ts';

export function alipayControlRoutes(deps: { db: Queryable; buyer: Buyer }) {
  const { db, buyer } = deps;

  return async function plugin(app: FastifyInstance): Promise<void> {
    keepRawBodies(app);

    app.post('/sandbox/alipay/scan', async (req, reply) => {
      const body = parseJsonBody(req);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return sendControlError(reply, 400, 'invalid_request', 'body must be {"outTradeNo": string, "appId"?: string}');
      }
      const { outTradeNo, appId, ...rest } = body as Record<string, unknown>;
      if (typeof outTradeNo !== 'string' || outTradeNo === '') return sendControlError(reply, 400, 'invalid_request', 'outTradeNo must be a non-empty string');
      if (appId !== undefined && typeof appId !== 'string') return sendControlError(reply, 400, 'invalid_request', 'appId must be a string');
      if (Object.keys(rest).length > 0) return sendControlError(reply, 400, 'invalid_request', `unknown fields: ${Object.keys(rest).join(', ')}`);
      const found = await findTradeForBuyer(db, outTradeNo, appId);
      if (found.outcome === 'not_found') return sendControlError(reply, 404, 'trade_not_found', `no Alipay order with out_trade_no ${outTradeNo}`);
      if (found.outcome === 'ambiguous') {
        return sendControlError(reply, 409, 'ambiguous_out_trade_no', `apps ${found.mchIds.join(', ')} all hold out_trade_no ${outTradeNo}; name one with appId`);
      }
      const now = new Date();
      const scanned = await buyer.scan(found.trade, now);
      if (scanned.outcome === 'refused') return sendControlError(reply, 409, scanned.code, scanned.message);
      return ledgerTradeOf(scanned.trade, now, { dropped: false });
    });
  };
}
