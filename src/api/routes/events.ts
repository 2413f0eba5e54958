// Events: the feed for consumers that poll, one event with its delivery log, and redelivery.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { EVENTS_PAGE_DEFAULT, EventIdParams, EventPage, EventWithDeliveries, ListEventsQuery, errors } from '../schemas.ts';
import { getEvent, listEvents, redeliverEvent } from '../../services/events.ts';
import type { ServiceContext } from '../../services/context.ts';

export function eventRoutes(ctx: ServiceContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/events',
      {
        schema: {
          tags: ['events'],
          summary: 'List events',
          description:
            'Events of your app, oldest first, for consumers that poll instead of (or as well as) receiving webhooks. ' +
            'Pass the last id you processed as `after`; an event that commits late is never skipped.',
          querystring: ListEventsQuery,
          response: { 200: EventPage, ...errors(400, 401) },
        },
      },
      async (req) => listEvents(ctx, req.appId, req.query.after, req.query.limit ? Number(req.query.limit) : EVENTS_PAGE_DEFAULT),
    );

    app.get(
      '/v1/events/:id',
      {
        schema: {
          tags: ['events'],
          summary: 'Get an event and its deliveries',
          description: 'Each delivery (webhook endpoint, RabbitMQ, NATS) with its state and every attempt: status code, latency, answer, error.',
          params: EventIdParams,
          response: { 200: EventWithDeliveries, ...errors(401, 404) },
        },
      },
      async (req) => getEvent(ctx, req.appId, req.params.id),
    );

    app.post(
      '/v1/events/:id/redeliver',
      {
        schema: {
          tags: ['events'],
          summary: 'Send an event again',
          description:
            'Every finished delivery of the event (dead, or delivered) to a target that is still active is sent again now, ' +
            'with a fresh retry schedule. Receivers dedupe on the event id, so this is always safe.',
          params: EventIdParams,
          response: { 202: EventWithDeliveries, ...errors(401, 404, 409) },
        },
      },
      async (req, reply) => reply.code(202).send(await redeliverEvent(ctx, req.appId, req.params.id)),
    );
  };
}
