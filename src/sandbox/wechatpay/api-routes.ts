// The WeChat Pay API v3 endpoints the sandbox simulates (Native pay: order, query, close; refunds
// and bills in their own plugins), mounted under /sandbox/wechatpay/v3. Every request must carry a
// valid merchant signature; every answer, errors and 204s included, is signed with the platform
// key, except a bill download.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Logger } from '../../logger.ts';
import type { BillPlants } from '../bill-plants.ts';
import type { FaultSwitchboard } from '../faults.ts';
import { dropConnection } from '../http-replies.ts';
import type { Notifier } from '../notifier.ts';
import { keepRawBodies, parseJsonBody, rawBodyOf } from '../raw-body.ts';
import { verifySha256WithRsa } from '../rsa.ts';
import { isUnsigned, queryFault, sendError, sendJson } from './api-replies.ts';
import { wechatpayBillRoutes } from './bill-routes.ts';
import type { Merchant, MerchantDirectory } from './merchants.ts';
import { parseNativeOrder } from './native-order.ts';
import { wechatpayRefundRoutes } from './refund-routes.ts';
import { refundedAmount } from './refund-store.ts';
import {
  isFreshTimestamp,
  parseAuthorization,
  platformSignatureHeaders,
  requestSignatureMessage,
  type PlatformSigner,
} from './signing.ts';
import { closeUnpaidTrade, findTrade, insertTradeOrFindExisting } from './store.ts';
import { toTransaction } from './transaction.ts';
import { newCodeUrl, newHexToken } from './wire-format.ts';

export const WECHATPAY_API_PREFIX = '/sandbox/wechatpay/v3';

export interface WechatpayApiDeps {
  db: pg.Pool;
  log: Logger;
  merchants: MerchantDirectory;
  signer: PlatformSigner;
  faults: FaultSwitchboard;
  notifier: Notifier;
  timeScale: number;
  billPlants: BillPlants;
  refundFailures: ReadonlySet<string>;
}

/** Registered with { prefix: WECHATPAY_API_PREFIX }. */
export function wechatpayApiRoutes(deps: WechatpayApiDeps) {
  const { db, log, merchants, signer, faults, notifier, timeScale, billPlants, refundFailures } = deps;

  return async function plugin(api: FastifyInstance): Promise<void> {
    keepRawBodies(api);
    const merchantOf = new WeakMap<FastifyRequest, Merchant>();

    api.addHook('onSend', async (_req, reply, payload) => {
      const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '';
      const signature = isUnsigned(reply) ? {} : await platformSignatureHeaders(signer, body, Date.now());
      reply.headers({ ...signature, 'Request-ID': newHexToken() });
      return payload;
    });

    api.addHook('preHandler', async (req, reply) => {
      const verdict = await authenticate(req, merchants);
      if (typeof verdict === 'string') return sendError(reply, 401, 'SIGN_ERROR', verdict);
      merchantOf.set(req, verdict);
    });

    api.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 400 && status < 500) return sendError(reply, status, 'INVALID_REQUEST', err.message);
      log.error({ err, url: req.url }, 'sandbox wechatpay: request failed');
      return sendError(reply, 500, 'SYSTEM_ERROR', 'sandbox internal error');
    });

    api.setNotFoundHandler((req, reply) => sendError(reply, 404, 'NOT_FOUND', `no such API: ${req.method} ${req.url}`));

    function authenticated(req: FastifyRequest): Merchant {
      const merchant = merchantOf.get(req);
      if (!merchant) throw new Error(`route ${req.url} ran without an authenticated merchant`);
      return merchant;
    }

    api.post('/pay/transactions/native', async (req, reply) => {
      const merchant = authenticated(req);
      const parsed = parseNativeOrder(parseJsonBody(req));
      if (!parsed.ok) return sendError(reply, 400, 'PARAM_ERROR', parsed.message);
      const order = parsed.order;
      if (order.mchid !== merchant.mchId || order.appid !== merchant.appId) {
        return sendError(reply, 400, 'APPID_MCHID_NOT_MATCH', 'appid and mchid do not match the registered merchant');
      }
      const { created, trade } = await insertTradeOrFindExisting(db, {
        mchId: order.mchid,
        outTradeNo: order.outTradeNo,
        appId: order.appid,
        description: order.description,
        notifyUrl: order.notifyUrl,
        attach: order.attach,
        amountTotal: order.amountTotal,
        currency: order.currency,
        timeExpire: order.timeExpire,
        requestFingerprint: order.fingerprint,
        codeUrl: newCodeUrl(),
        createdAt: new Date(),
      });
      if (!created) {
        // Paid and closed win over "changed parameters": the caller learns the trade's fate first.
        if (trade.state === 'SUCCESS') return sendError(reply, 400, 'ORDER_PAID', 'the order is already paid');
        if (trade.state === 'CLOSED') return sendError(reply, 400, 'ORDER_CLOSED', 'the order is closed');
        if (trade.requestFingerprint !== order.fingerprint) {
          return sendError(reply, 403, 'OUT_TRADE_NO_USED', 'out_trade_no already used with different parameters');
        }
      }
      if (faults.strikes(faults.current.createTimeoutRate)) return dropConnection(req, reply);
      return sendJson(reply, 200, { code_url: trade.codeUrl });
    });

    api.get<{ Params: { outTradeNo: string }; Querystring: Record<string, unknown> }>(
      '/pay/transactions/out-trade-no/:outTradeNo',
      async (req, reply) => {
        const merchant = authenticated(req);
        const mchid = req.query.mchid;
        if (typeof mchid !== 'string' || mchid === '') return sendError(reply, 400, 'PARAM_ERROR', 'query parameter mchid is required');
        if (mchid !== merchant.mchId) return sendError(reply, 400, 'PARAM_ERROR', 'mchid does not match the signing merchant');
        const faulted = queryFault(faults, req, reply);
        if (faulted) return faulted;
        const trade = await findTrade(db, merchant.mchId, req.params.outTradeNo);
        if (!trade) return sendError(reply, 404, 'ORDER_NOT_EXIST', 'order does not exist');
        // A paid trade with a refund under way or done reads REFUND (channels.md §1.6: still paid).
        const refunding = trade.state === 'SUCCESS' && (await refundedAmount(db, merchant.mchId, trade.outTradeNo, new Date())) > 0;
        return sendJson(reply, 200, toTransaction(trade, refunding));
      },
    );

    api.post<{ Params: { outTradeNo: string } }>('/pay/transactions/out-trade-no/:outTradeNo/close', async (req, reply) => {
      const merchant = authenticated(req);
      const body = parseJsonBody(req);
      const mchid = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).mchid : undefined;
      if (typeof mchid !== 'string' || mchid === '') return sendError(reply, 400, 'PARAM_ERROR', 'body field mchid is required');
      if (mchid !== merchant.mchId) return sendError(reply, 400, 'PARAM_ERROR', 'mchid does not match the signing merchant');
      if (faults.strikes(faults.current.closeErrorRate)) return sendError(reply, 500, 'SYSTEM_ERROR', 'system error (injected fault)');
      const { outTradeNo } = req.params;
      if (await closeUnpaidTrade(db, merchant.mchId, outTradeNo, new Date())) return reply.code(204).send();
      const trade = await findTrade(db, merchant.mchId, outTradeNo);
      if (!trade) return sendError(reply, 404, 'ORDER_NOT_EXIST', 'order does not exist');
      if (trade.state === 'CLOSED') return reply.code(204).send();
      if (trade.state === 'SUCCESS') return sendError(reply, 400, 'ORDER_PAID', 'the order is paid and cannot be closed');
      throw new Error(`trade ${merchant.mchId}/${outTradeNo} is NOTPAY yet closing it changed nothing`);
    });

    await api.register(wechatpayRefundRoutes({ pool: db, faults, notifier, timeScale, refundFailures, authenticated }));
    await api.register(wechatpayBillRoutes({ db, faults, billPlants, authenticated }));
  };
}

/**
 * The merchant whose registered key verifies the request, or why none does. A failed check is
 * retried once with the merchant re-read from the ledger, in case another sandbox process
 * re-registered it with new keys.
 */
async function authenticate(req: FastifyRequest, merchants: MerchantDirectory): Promise<Merchant | string> {
  const auth = parseAuthorization(req.headers.authorization);
  if (!auth) return 'Authorization header is missing or malformed';
  if (!isFreshTimestamp(auth.timestamp, Date.now())) return 'timestamp is more than 5 minutes away from the server time';
  const message = requestSignatureMessage(req.method, req.url, auth.timestamp, auth.nonceStr, rawBodyOf(req));
  let reason = '';
  for (const fresh of [false, true]) {
    const merchant = await merchants.get(auth.mchid, { fresh });
    if (!merchant) return 'mchid is not a registered merchant'; // a cache miss already read the ledger
    if (merchant.certSerialNo !== auth.serialNo) reason = 'serial_no is not the merchant certificate serial on record';
    else if (!verifySha256WithRsa(merchant.publicKey, message, auth.signature)) reason = 'signature does not verify';
    else return merchant;
  }
  return reason;
}
