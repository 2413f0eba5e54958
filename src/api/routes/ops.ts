// Health, readiness and metrics for operators.
import type { FastifyPluginAsync } from 'fastify';
import type { ServiceContext } from '../../services/context.ts';
import { PaycenterError } from '../../domain/errors.ts';
import { sendError } from '../errors.ts';

export function opsRoutes(ctx: ServiceContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/healthz', { schema: { tags: ['ops'], summary: 'Liveness: the process answers' } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: { tags: ['ops'], summary: 'Readiness: the database answers' } }, async (_req, reply) => {
      try {
        await ctx.pool.query('SELECT 1');
        return { status: 'ready' };
      } catch {
        return sendError(reply, new PaycenterError('not_ready', 'The database does not answer.'));
      }
    });
    app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics' } }, async (_req, reply) =>
      reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()),
    );
  };
}
