// Request and response schemas of the daily reconciliation reports.
import { Type } from '@sinclair/typebox';
import { CHANNEL_NAMES } from '../domain/channels.ts';
import { DIFFERENCE_ACTIONS, DIFFERENCE_CLASSES } from '../domain/reconciliation.ts';
import { RECONCILIATIONS_PAGE_MAX } from '../services/reconciliation.ts';
import { Identifier } from './schemas.ts';

/** One page of GET /v1/reconciliations when `limit` is not given. */
export const RECONCILIATIONS_PAGE_DEFAULT = 20;

const Channel = Type.String({
  minLength: 1,
  maxLength: 32,
  pattern: '^[a-z]+$',
  description: `The channel: ${CHANNEL_NAMES.join(', ')}; it must be configured (\`channel_not_configured\` otherwise).`,
});

export const CreateReconciliationBody = Type.Object(
  {
    channel: Channel,
    date: Type.String({
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
      description: 'The bill’s day, yyyy-MM-dd in Beijing time (UTC+8); today at the latest. Real channels publish a day’s bill from about 09:00 the next day.',
    }),
  },
  { additionalProperties: false },
);

const CLASS_DESCRIPTION =
  '`paid_at_channel_only`: the bill has a payment our attempt does not have as SUCCEEDED (queried at once). ' +
  '`unknown_trade`: a payment whose out_trade_no Paycenter never made. ' +
  '`paid_locally_only`: paid here that day, absent from the bill (the order goes to EXCEPTION and is queried). ' +
  '`amount_mismatch`: amount or currency differ. ' +
  '`refund_at_channel_only`: the bill shows a refund succeeded (or still processing) that Paycenter holds PENDING (or FAILED) (queried at once). ' +
  '`unknown_refund`: a refund number Paycenter never made. ' +
  '`refund_locally_only`: a refund SUCCEEDED here that day, absent from the bill or failed in it. ' +
  '`refund_amount_mismatch`: a refund’s amount or currency differ.';

const Difference = Type.Object({
  class: Type.Union(DIFFERENCE_CLASSES.map((c) => Type.Literal(c)), { description: CLASS_DESCRIPTION }),
  outTradeNo: Type.Union([Type.String(), Type.Null()], { description: 'The payment’s number at the channel.' }),
  outRefundNo: Type.Union([Type.String(), Type.Null()], { description: 'The refund’s number at the channel, for refund classes.' }),
  orderId: Type.Union([Type.String(), Type.Null()], { description: 'The order, when Paycenter knows the trade.' }),
  channelSide: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
    description: 'What the bill says: amountMinor, currency, channelTradeNo, refundStatus. Null when the bill has no line.',
  }),
  localSide: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()], {
    description: 'What Paycenter holds: amountMinor, currency, state, orderState, paidAt or createdAt, attemptId, refundId. Null for an unknown trade or refund.',
  }),
  action: Type.Union(DIFFERENCE_ACTIONS.map((a) => Type.Literal(a)), {
    description:
      '`query_enqueued`: the attempt is queried at the channel now. `refund_query_enqueued`: the refund is. ' +
      '`order_exception`: the order moved PAID → EXCEPTION (event `order.exception`) and its attempt is queried. ' +
      '`alert`: logged as an error and counted in paycenter_reconciliation_differences_total; an operator must look.',
  }),
});

const reportFields = {
  id: Type.String({ description: 'The report id (`rec_…`).' }),
  channel: Type.String(),
  date: Type.String({ description: 'The bill’s Beijing day, yyyy-MM-dd.' }),
  state: Type.Union([Type.Literal('RUNNING'), Type.Literal('DONE'), Type.Literal('FAILED')], {
    description: 'RUNNING, DONE (compared; see `summary`), or FAILED (no bill: see `error`; the daily job retries).',
  }),
  summary: Type.Union(
    [
      Type.Object({
        billLines: Type.Integer({ description: 'Payment and refund lines in the bill.' }),
        localPayments: Type.Integer({ description: 'SUCCEEDED attempts compared: paid that day, or named by the bill.' }),
        localRefunds: Type.Integer({ description: 'Refunds compared: succeeded that day, or named by the bill.' }),
        differences: Type.Record(Type.String(), Type.Integer(), { description: 'Differences found, by class (every class, zero included).' }),
      }),
      Type.Null(),
    ],
    { description: 'Set when DONE.' },
  ),
  error: Type.Union([Type.String(), Type.Null()], { description: 'Why the report FAILED (`not_ready: …`, `unknown: …`).' }),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
};

export const Reconciliation = Type.Object(reportFields);

export const ReconciliationWithDifferences = Type.Object({ ...reportFields, differences: Type.Array(Difference) });

export const ReconciliationPage = Type.Object({
  data: Type.Array(Reconciliation),
  hasMore: Type.Boolean({ description: 'Older reports follow: ask again with `before` = the last id of `data`.' }),
});

export const ListReconciliationsQuery = Type.Object(
  {
    channel: Type.Optional(Channel),
    before: Type.Optional(Identifier('The last report id of the previous page; omit for the newest.')),
    limit: Type.Optional(
      Type.String({
        pattern: '^(100|[1-9][0-9]?)$',
        description: `How many reports, 1–${RECONCILIATIONS_PAGE_MAX} (default ${RECONCILIATIONS_PAGE_DEFAULT}).`,
      }),
    ),
  },
  { additionalProperties: false },
);

export const ReconciliationIdParams = Type.Object({ id: Identifier('The report id (`rec_…`).') });
