// Webhook endpoints: where your app's events are POSTed, signed per Standard Webhooks.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CreateWebhookEndpointBody, CreatedWebhookEndpoint, WebhookEndpoint, WebhookEndpointIdParams, errors } from '../schemas.ts';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  listWebhookEndpoints,
} from '../../services/webhook-endpoints.ts';
import type { ServiceContext } from '../../services/context.ts';

export function webhookEndpointRoutes(ctx: ServiceContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/v1/webhook-endpoints',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'Add a webhook endpoint',
          description:
            'Every event of your app (or only `events`) committed from now on is POSTed to `url` with the headers ' +
            '`webhook-id`, `webhook-timestamp` and `webhook-signature` (Standard Webhooks). Answer 2xx to acknowledge; ' +
            'anything else is retried with back-off for about three days; 410 Gone disables the endpoint.',
          body: CreateWebhookEndpointBody,
          response: { 201: CreatedWebhookEndpoint, ...errors(400, 401) },
        },
      },
      async (req, reply) => reply.code(201).send(await createWebhookEndpoint(ctx, req.appId, req.body)),
    );

    app.get(
      '/v1/webhook-endpoints',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'List webhook endpoints',
          response: { 200: Type.Object({ data: Type.Array(WebhookEndpoint) }), ...errors(401) },
        },
      },
      async (req) => ({ data: await listWebhookEndpoints(ctx, req.appId) }),
    );

    app.get(
      '/v1/webhook-endpoints/:id',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'Get a webhook endpoint',
          params: WebhookEndpointIdParams,
          response: { 200: WebhookEndpoint, ...errors(401, 404) },
        },
      },
      async (req) => getWebhookEndpoint(ctx, req.appId, req.params.id),
    );

    app.delete(
      '/v1/webhook-endpoints/:id',
      {
        schema: {
          tags: ['webhooks'],
          summary: 'Delete a webhook endpoint',
          description: 'Nothing more is sent to it; its pending deliveries stop. Past deliveries stay visible on the events.',
          params: WebhookEndpointIdParams,
          response: { 204: Type.Null(), ...errors(401, 404) },
        },
      },
      async (req, reply) => {
        await deleteWebhookEndpoint(ctx, req.appId, req.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
