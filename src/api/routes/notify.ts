// Channel notifications. The body is kept as the exact text received: signatures are over it.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { handleNotification } from '../../services/notifications.ts';
import type { ServiceContext } from '../../services/context.ts';

/** Notifications are small; a larger body is refused before it is read. */
const NOTIFICATION_BODY_BYTES_MAX = 256 * 1024;

export function notifyRoutes(ctx: ServiceContext): FastifyPluginAsync {
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: NOTIFICATION_BODY_BYTES_MAX }, (_req, body, done) =>
      done(null, body),
    );
    app.post<{ Params: { channel: string }; Body: string }>(
      '/notify/:channel',
      {
        schema: {
          tags: ['channels'],
          summary: 'Payment channel notifications',
          description:
            'Configure this URL (e.g. https://your-host/notify/wechatpay) as the channel notify URL. Verified, stored and ' +
            'applied idempotently; refused notifications are stored too and answered with an error.',
          params: Type.Object({ channel: Type.String({ maxLength: 32 }) }),
        },
      },
      async (req, reply) => {
        const ack = await handleNotification(ctx, req.params.channel, { headers: req.headers, rawBody: req.body ?? '' });
        return reply.code(ack.statusCode).type(ack.contentType).send(ack.body);
      },
    );
    // Where a channel's cashier sends the buyer's browser back (Alipay return_url, UnionPay
    // frontUrl). What it carries is never trusted: only notifications and queries move state.
    const returnPage = {
      schema: {
        tags: ['channels'],
        summary: "The buyer's browser back from a channel's cashier",
        description:
          'Set as the return URL (Alipay `returnUrl`, UnionPay `frontUrl`) when your shop has no page of its own. ' +
          'It only tells the buyer the result is being confirmed; the order changes through notifications and queries alone.',
        params: Type.Object({ channel: Type.String({ maxLength: 32 }) }),
      },
    };
    const answerReturn = async (_req: unknown, reply: FastifyReply) =>
      reply.type('text/html; charset=utf-8').send(RETURN_PAGE);
    app.get('/return/:channel', returnPage, answerReturn);
    app.post('/return/:channel', returnPage, answerReturn);
  };
}

const RETURN_PAGE =
  '<!doctype html><meta charset="utf-8"><title>Payment submitted</title>' +
  '<p>Thank you. The payment is being confirmed with the channel; the shop will show the result shortly. You can close this page.</p>';
