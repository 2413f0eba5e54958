// The sandbox's control API, the same for every simulated channel: the buyer pays, faults are
// switched on and off, and the ledger says what the bank really did. Trades are named by
// out_trade_no alone; each channel looks them up in its own ledger.
import type { FastifyInstance } from 'fastify';
import type { LedgerRefund, LedgerTrade, SandboxChannel } from './channel.ts';
import { parseBillPlant, type BillPlants } from './bill-plants.ts';
import { parseFaults, type FaultSwitchboard } from './faults.ts';
import { sendControlError } from './http-replies.ts';
import { keepRawBodies, parseJsonBody } from './raw-body.ts';

/** Without ?limit the ledger lists this many trades (oldest first); ?limit may raise it to the maximum. */
const LEDGER_LIMIT_DEFAULT = 10_000;
const LEDGER_LIMIT_MAX = 100_000;

export function controlRoutes(deps: {
  channels: SandboxChannel[];
  faults: FaultSwitchboard;
  billPlants: BillPlants;
  refundFailures: Set<string>;
}) {
  const { channels, faults, billPlants, refundFailures } = deps;

  return async function plugin(app: FastifyInstance): Promise<void> {
    keepRawBodies(app);

    app.post('/sandbox/pay', async (req, reply) => {
      const body = parseJsonBody(req);
      if (!isObject(body)) return sendControlError(reply, 400, 'invalid_request', 'body must be {"outTradeNo": string, "mchId"?: string}');
      const { outTradeNo, mchId, ...rest } = body;
      if (typeof outTradeNo !== 'string' || outTradeNo === '') return sendControlError(reply, 400, 'invalid_request', 'outTradeNo must be a non-empty string');
      if (mchId !== undefined && typeof mchId !== 'string') return sendControlError(reply, 400, 'invalid_request', 'mchId must be a string');
      if (Object.keys(rest).length > 0) return sendControlError(reply, 400, 'invalid_request', `unknown fields: ${Object.keys(rest).join(', ')}`);
      for (const channel of channels) {
        const result = await channel.pay(outTradeNo, mchId);
        switch (result.outcome) {
          case 'not_found':
            continue;
          case 'paid':
            return result.trade;
          case 'refused':
            return sendControlError(reply, 409, result.code, result.message);
          case 'ambiguous':
            return sendControlError(reply, 409, 'ambiguous_out_trade_no',
              `merchants ${result.mchIds.join(', ')} all hold out_trade_no ${outTradeNo}; name one with mchId`);
          default:
            return assertNever(result);
        }
      }
      return sendControlError(reply, 404, 'trade_not_found', `no trade with out_trade_no ${outTradeNo}`);
    });

    app.get('/sandbox/faults', async () => faults.current);

    app.put('/sandbox/faults', async (req, reply) => {
      const parsed = parseFaults(parseJsonBody(req));
      if (!parsed.ok) return sendControlError(reply, 400, 'invalid_faults', parsed.message);
      faults.replace(parsed.faults);
      return faults.current;
    });

    app.delete('/sandbox/faults', async () => {
      faults.clear();
      return faults.current;
    });

    app.get<{ Querystring: Record<string, unknown> }>('/sandbox/ledger', async (req, reply) => {
      const { outTradeNo, limit } = req.query;
      if (outTradeNo !== undefined && typeof outTradeNo !== 'string') {
        return sendControlError(reply, 400, 'invalid_request', 'outTradeNo must appear at most once');
      }
      const limitNumber = limit === undefined ? LEDGER_LIMIT_DEFAULT : Number(limit);
      if (!Number.isInteger(limitNumber) || limitNumber < 1 || limitNumber > LEDGER_LIMIT_MAX) {
        return sendControlError(reply, 400, 'invalid_request', `limit must be an integer from 1 to ${LEDGER_LIMIT_MAX}`);
      }
      const trades: LedgerTrade[] = [];
      for (const channel of channels) trades.push(...(await channel.ledger({ outTradeNo, limit: limitNumber })));
      return { trades: trades.slice(0, limitNumber) };
    });

    app.get<{ Querystring: Record<string, unknown> }>('/sandbox/refunds', async (req, reply) => {
      const { outTradeNo } = req.query;
      if (outTradeNo !== undefined && typeof outTradeNo !== 'string') {
        return sendControlError(reply, 400, 'invalid_request', 'outTradeNo must appear at most once');
      }
      const refunds: LedgerRefund[] = [];
      for (const channel of channels) refunds.push(...(await channel.refunds({ outTradeNo, limit: LEDGER_LIMIT_MAX })));
      return { refunds };
    });

    app.post('/sandbox/refund-failures', async (req, reply) => {
      const body = parseJsonBody(req);
      if (!isObject(body) || typeof body.outTradeNo !== 'string' || body.outTradeNo === '') {
        return sendControlError(reply, 400, 'invalid_request', 'body must be {"outTradeNo": string}');
      }
      refundFailures.add(body.outTradeNo);
      return reply.code(201).send({ outTradeNo: body.outTradeNo });
    });

    app.post('/sandbox/bill-plants', async (req, reply) => {
      const body = parseJsonBody(req);
      if (!isObject(body)) return sendControlError(reply, 400, 'invalid_request', 'body must be {"channel", "date", "plant"}');
      const { channel, date, plant } = body;
      if (typeof channel !== 'string' || !channels.some((c) => c.name === channel)) {
        return sendControlError(reply, 400, 'invalid_request', `channel must be one of ${channels.map((c) => c.name).join(', ')}`);
      }
      if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return sendControlError(reply, 400, 'invalid_request', 'date must be yyyy-MM-dd');
      const parsed = parseBillPlant(plant);
      if (!parsed.ok) return sendControlError(reply, 400, 'invalid_request', parsed.message);
      billPlants.add(channel, date, parsed.plant);
      return reply.code(201).send({ channel, date, plant: parsed.plant });
    });

    app.delete('/sandbox/bill-plants', async () => {
      billPlants.clear();
      return { cleared: true };
    });
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function assertNever(value: never): never {
  throw new Error(`unexpected pay outcome ${JSON.stringify(value)}`);
}
