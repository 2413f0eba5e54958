// /sandbox/alipay/gateway.do, the sandbox's openapi.alipay.com/gateway.do. API methods (trades,
// refunds, bills) answer `{"<method>_response":{…},"sign":"…"}` signed with the Alipay key, errors
// included (§2.3), with HTTP 200 as Alipay does; page.pay answers with the cashier page (./cashier.ts).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '../../logger.ts';
import { dropConnection, sendHtml } from '../http-replies.ts';
import { keepRawBodies, rawBodyOf } from '../raw-body.ts';
import type { App, AppDirectory } from './apps.ts';
import { openCashier, type CashierDeps } from './cashier.ts';
import { readGatewayRequest, type GatewayError, type GatewayMethod } from './gateway-request.ts';
import { signedResponseBody } from './signing.ts';
import type { BillApi } from './bill-api.ts';
import type { RefundApi } from './refund-api.ts';
import type { ApiOutcome, TradeApi } from './trade-api.ts';

const ALIPAY_GATEWAY_PATH = '/sandbox/alipay/gateway.do';

const GATEWAY_MESSAGES: Record<GatewayError['code'], string> = {
  '20000': 'Service Currently Unavailable',
  '40001': 'Missing Required Arguments',
  '40002': 'Invalid Arguments',
  '40004': 'Business Failed',
};

export interface GatewayDeps extends CashierDeps {
  log: Logger;
  apps: AppDirectory;
  api: TradeApi;
  refunds: RefundApi;
  bills: BillApi;
}

export function alipayGatewayRoutes(deps: GatewayDeps) {
  const { apps, log, api, refunds, bills, alipayKey } = deps;

  return async function plugin(app: FastifyInstance): Promise<void> {
    keepRawBodies(app);

    app.setErrorHandler(async (err: Error, req, reply) => {
      log.error({ err, url: req.url }, 'sandbox alipay: gateway request failed');
      const error: GatewayError = { code: '20000', subCode: 'isp.unknow-error', subMsg: '系统繁忙 (sandbox internal error)' };
      return sendSigned(reply, 'error_response', errorFields(error));
    });

    app.route({
      method: ['GET', 'POST'],
      url: ALIPAY_GATEWAY_PATH,
      handler: async (req, reply) => {
        const now = new Date();
        const request = await readGatewayRequest(apps, { url: req.url, contentType: req.headers['content-type'], body: rawBodyOf(req) }, now);
        if (request.method === 'alipay.trade.page.pay') {
          const { status, html } = await openCashier(deps, request, now);
          return sendHtml(reply, status, html);
        }
        const responseKey = request.method === undefined ? 'error_response' : `${request.method.replaceAll('.', '_')}_response`;
        if (!request.ok) return sendSigned(reply, responseKey, errorFields(request.error));
        // The bill's download URL points back at this sandbox, as the merchant reached it.
        const outcome = await dispatch(request.method, request.app, request.params, request.biz, now, `${req.protocol}://${req.host}`);
        switch (outcome.kind) {
          case 'success':
            return sendSigned(reply, responseKey, { code: '10000', msg: 'Success', ...outcome.fields });
          case 'error':
            return sendSigned(reply, responseKey, errorFields(outcome.error));
          case 'hang_up':
            return dropConnection(req, reply);
        }
      },
    });

    function dispatch(
      method: Exclude<GatewayMethod, 'alipay.trade.page.pay'>,
      app: App,
      params: Record<string, string>,
      biz: Record<string, unknown>,
      now: Date,
      origin: string,
    ): Promise<ApiOutcome> {
      switch (method) {
        case 'alipay.trade.precreate':
          return api.precreate(app, params, biz, now);
        case 'alipay.trade.query':
          return api.query(app, biz, now);
        case 'alipay.trade.close':
          return api.close(app, biz, now);
        case 'alipay.trade.refund':
          return refunds.refund(app, biz, now);
        case 'alipay.trade.fastpay.refund.query':
          return refunds.refundQuery(app, biz);
        case 'alipay.data.dataservice.bill.downloadurl.query':
          return bills.downloadUrl(app, biz, now, origin);
      }
    }

    async function sendSigned(reply: FastifyReply, responseKey: string, inner: Record<string, unknown>): Promise<FastifyReply> {
      const { privateKey } = await alipayKey();
      return reply.code(200).type('application/json; charset=utf-8').send(await signedResponseBody(responseKey, inner, privateKey));
    }
  };
}

function errorFields(error: GatewayError): Record<string, unknown> {
  return { code: error.code, msg: GATEWAY_MESSAGES[error.code], sub_code: error.subCode, sub_msg: error.subMsg };
}
