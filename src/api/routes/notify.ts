// Channel notifications. The body is kept as the exact text received: signatures are over it.
import type { FastifyPluginAsync } from 'fastify';
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
  };
}
