// Daily reconciliation reports: run one now, list them, read one with its differences. Reports
// span every app's orders, so only the default app's key may use them.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errors } from '../schemas.ts';
import {
  CreateReconciliationBody,
  ListReconciliationsQuery,
  RECONCILIATIONS_PAGE_DEFAULT,
  ReconciliationIdParams,
  ReconciliationPage,
  ReconciliationWithDifferences,
} from '../reconciliation-schemas.ts';
import { getReconciliationReport, listReconciliationReports, reconcileChannelDay } from '../../services/reconciliation.ts';
import { PaycenterError } from '../../domain/errors.ts';
import type { ServiceContext } from '../../services/context.ts';

export function reconciliationRoutes(ctx: ServiceContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook('preHandler', async (req) => {
      if (!req.appIsDefault) {
        throw new PaycenterError('forbidden', 'Reconciliation reports cover every app; use the default app’s API key.');
      }
    });

    app.post(
      '/v1/reconciliations',
      {
        schema: {
          tags: ['reconciliations'],
          summary: 'Reconcile one channel’s day now',
          description:
            'Downloads the channel’s bill of the Beijing day `date`, compares it with Paycenter’s records and acts on each difference ' +
            '(see `action`). Answers the stored report: DONE, or FAILED when the channel has no bill for that day yet.',
          body: CreateReconciliationBody,
          response: { 201: ReconciliationWithDifferences, ...errors(400, 401, 403) },
        },
      },
      async (req, reply) => reply.code(201).send(await reconcileChannelDay(ctx, req.body.channel, req.body.date)),
    );

    app.get(
      '/v1/reconciliations',
      {
        schema: {
          tags: ['reconciliations'],
          summary: 'List reconciliation reports',
          description: 'Newest first, the daily job’s and those asked for through the API or the CLI alike.',
          querystring: ListReconciliationsQuery,
          response: { 200: ReconciliationPage, ...errors(400, 401, 403) },
        },
      },
      async (req) =>
        listReconciliationReports(
          ctx,
          { channel: req.query.channel, before: req.query.before },
          req.query.limit ? Number(req.query.limit) : RECONCILIATIONS_PAGE_DEFAULT,
        ),
    );

    app.get(
      '/v1/reconciliations/:id',
      {
        schema: {
          tags: ['reconciliations'],
          summary: 'Get a reconciliation report and its differences',
          params: ReconciliationIdParams,
          response: { 200: ReconciliationWithDifferences, ...errors(401, 403, 404) },
        },
      },
      async (req) => getReconciliationReport(ctx, req.params.id),
    );
  };
}
