// Builds the HTTP server: merchant API, channel notifications, ops endpoints, OpenAPI and docs.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from '../logger.ts';
import type { ServiceContext } from '../services/context.ts';
import { createAuthenticator } from './auth.ts';
import { installErrorHandler } from './errors.ts';
import { ErrorResponse, Event, Order, Payment } from './schemas.ts';
import { Refund } from './refund-schemas.ts';
import { refundRoutes } from './routes/refunds.ts';
import { orderRoutes } from './routes/orders.ts';
import { eventRoutes } from './routes/events.ts';
import { webhookEndpointRoutes } from './routes/webhook-endpoints.ts';
import { reconciliationRoutes } from './routes/reconciliations.ts';
import { notifyRoutes } from './routes/notify.ts';
import { opsRoutes } from './routes/ops.ts';
import { renderDocs } from './docs.ts';

/** Merchant requests are small JSON documents. */
const BODY_BYTES_MAX = 64 * 1024;

export async function buildServer(ctx: ServiceContext, log: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // One log line per request would cost more than the request at thousands per second.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_BYTES_MAX,
    // Wrong types are errors, never silently converted; unknown fields are refused, not dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandler(app);
  app.addSchema(ErrorResponse);
  app.addSchema(Payment);
  app.addSchema(Order);
  app.addSchema(Refund);
  app.addSchema(Event);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Paycenter',
        version: '0.1.0',
        description:
          'Self-hosted payment center. Authenticate with `Authorization: Bearer <API key>`. Amounts are integers in minor units (fen).',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  const authenticate = createAuthenticator(ctx.pool);
  // The merchant API: every route below answers only to an app's API key, and speaks JSON only
  // (anything else is 415, not a string that fails validation).
  await app.register(async (merchant) => {
    merchant.removeContentTypeParser('text/plain');
    merchant.decorateRequest('appId', '');
    merchant.decorateRequest('appIsDefault', false);
    merchant.addHook('onRequest', async (req) => {
      const authenticated = await authenticate(req);
      req.appId = authenticated.id;
      req.appIsDefault = authenticated.isDefault;
    });
    await merchant.register(orderRoutes(ctx));
    await merchant.register(refundRoutes(ctx));
    await merchant.register(eventRoutes(ctx));
    await merchant.register(webhookEndpointRoutes(ctx));
    await merchant.register(reconciliationRoutes(ctx));
  });
  await app.register(notifyRoutes(ctx));
  await app.register(opsRoutes(ctx));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/docs', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(renderDocs(app.swagger() as unknown as Record<string, unknown>)),
  );
  return app;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The app whose API key authenticated the request. */
    appId: string;
    /** That app is the default (operator's) app. */
    appIsDefault: boolean;
  }
}
