// The merchant API for refunds. Thin: parse, call a service, answer.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { OrderIdParams, errors } from '../schemas.ts';
import { CreateRefundBody, RefundList } from '../refund-schemas.ts';
import { createRefund, listOrderRefunds } from '../../services/refunds.ts';
import type { ServiceContext } from '../../services/context.ts';

const RefundRef = Type.Ref('Refund');

export function refundRoutes(ctx: ServiceContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/orders/:id/refunds',
      {
        schema: {
          tags: ['refunds'],
          summary: 'Refund a paid order',
          description:
            'Gives `amount` back to the buyer through the channel that was paid. Answers 201 with the refund PENDING; it ' +
            'becomes SUCCEEDED or FAILED on the channel’s word (events `refund.succeeded`, `refund.failed`). Idempotent by ' +
            '`merchantRefundNo`: the same number and body answer 200 with the same refund, another body ' +
            '`merchant_refund_no_exists`. All refunds of an order together never exceed the paid amount, also when ' +
            'sent concurrently (`refund_exceeds_paid`). Only a PAID order can be refunded (`order_not_paid`).',
          params: OrderIdParams,
          body: CreateRefundBody,
          response: { 200: RefundRef, 201: RefundRef, ...errors(400, 401, 404, 409) },
        },
      },
      async (req, reply) => {
        const { refund, created } = await createRefund(ctx, req.appId, req.params.id, req.body);
        return reply.code(created ? 201 : 200).send(refund);
      },
    );

    app.get(
      '/v1/orders/:id/refunds',
      {
        schema: {
          tags: ['refunds'],
          summary: "An order's refunds",
          description: 'Every refund of the order, oldest first: yours and the automatic ones (duplicate or late payments).',
          params: OrderIdParams,
          response: { 200: RefundList, ...errors(401, 404) },
        },
      },
      async (req) => ({ data: await listOrderRefunds(ctx, req.appId, req.params.id) }),
    );
  };
}
