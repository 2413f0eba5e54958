// The merchant API for orders. Thin: parse, call a service, answer.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CreateOrderBody,
  FindOrderQuery,
  GetOrderQuery,
  IdempotencyHeaders,
  OrderIdParams,
  PayBody,
  PayResponse,
  TimelineResponse,
  errors,
} from '../schemas.ts';
import { closeOrder, getOrder, getOrderByMerchantOrderNo, getTimeline, submitOrder } from '../../services/orders.ts';
import { payOrder } from '../../services/payments.ts';
import { withIdempotencyKey } from '../../services/idempotency.ts';
import { canonicalJson, sha256 } from '../../domain/fingerprint.ts';
import type { ServiceContext } from '../../services/context.ts';

const OrderRef = Type.Ref('Order');

export function orderRoutes(ctx: ServiceContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/orders',
      {
        schema: {
          tags: ['orders'],
          summary: 'Submit an order',
          description:
            'Creates a payment order in state CREATED. Duplicate protection: an `Idempotency-Key` replays the first answer; ' +
            'the same content (app, customerId, amount, currency, subject, description, metadata) within the duplicate window ' +
            'is refused with `duplicate_submission`; a used `merchantOrderNo` is refused with `merchant_order_no_exists`.',
          headers: IdempotencyHeaders,
          body: CreateOrderBody,
          response: { 201: OrderRef, ...errors(400, 401, 409, 422) },
        },
      },
      async (req, reply) => {
        const key = req.headers['idempotency-key'];
        if (key === undefined) return reply.code(201).send(await submitOrder(ctx, req.appId, req.body));
        const requestHash = sha256(canonicalJson(req.body));
        const result = await withIdempotencyKey(ctx, req.appId, key, requestHash, async () => ({
          status: 201,
          body: await submitOrder(ctx, req.appId, req.body),
        }));
        if (result.replayed) reply.header('Idempotent-Replayed', 'true');
        return reply.code(result.status as 201).send(result.body as never);
      },
    );

    app.get(
      '/v1/orders',
      {
        schema: {
          tags: ['orders'],
          summary: 'Find an order by your merchantOrderNo',
          querystring: FindOrderQuery,
          response: { 200: OrderRef, ...errors(400, 401, 404) },
        },
      },
      async (req) => getOrderByMerchantOrderNo(ctx, req.appId, req.query.merchantOrderNo),
    );

    app.get(
      '/v1/orders/:id',
      {
        schema: {
          tags: ['orders'],
          summary: 'Get an order',
          description: 'With `?sync=true` a PAYING order is first queried at the channel, so the answer is the channel’s truth.',
          params: OrderIdParams,
          querystring: GetOrderQuery,
          response: { 200: OrderRef, ...errors(400, 401, 404) },
        },
      },
      async (req) => getOrder(ctx, req.appId, req.params.id, req.query.sync === 'true'),
    );

    app.post(
      '/v1/orders/:id/pay',
      {
        schema: {
          tags: ['orders'],
          summary: 'Pay an order',
          description:
            'Opens (or returns the open) payment attempt at the channel and answers what the buyer needs (`action`). ' +
            'Concurrent and repeated calls share one attempt. `order_paid` and `order_closed` refuse it.',
          params: OrderIdParams,
          body: PayBody,
          response: { 200: PayResponse, ...errors(400, 401, 404, 409, 502) },
        },
      },
      async (req) => payOrder(ctx, req.appId, req.params.id, req.body),
    );

    app.post(
      '/v1/orders/:id/close',
      {
        schema: {
          tags: ['orders'],
          summary: 'Close an order',
          description:
            'Closes the open attempt at the channel first and confirms it, then closes the order. If the close reveals ' +
            'that the buyer paid, the order becomes PAID instead and is returned as such.',
          params: OrderIdParams,
          response: { 200: OrderRef, ...errors(401, 404, 409, 502) },
        },
      },
      async (req) => closeOrder(ctx, req.appId, req.params.id),
    );

    app.get(
      '/v1/orders/:id/timeline',
      {
        schema: {
          tags: ['orders'],
          summary: "An order's story",
          description:
            'Every state transition (`from`, `to`, `reason`), notification received (verified or refused, and why) and ' +
            'channel call (operation, outcome, latency), in time order.',
          params: OrderIdParams,
          response: { 200: TimelineResponse, ...errors(401, 404) },
        },
      },
      async (req) => ({ data: await getTimeline(ctx, req.appId, req.params.id) }),
    );
  };
}

