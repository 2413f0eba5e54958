// The sandbox's control API, the same for every simulated channel: the buyer pays, faults are
// switched on and off, and the ledger says what the bank really did. Trades are named by
// out_trade_no alone; each channel looks them up in its own ledger.
import type { FastifyInstance } from 'fastify';
import type { LedgerTrade, SandboxChannel } from './channel.ts';
import { parseFaults, type FaultSwitchboard } from './faults.ts';
import { sendControlError } from './http-replies.ts';
import { keepRawBodies, parseJsonBody } from './raw-body.ts';

/** Without ?limit the ledger lists this many trades (oldest first); ?limit may raise it to the maximum. */
const LEDGER_LIMIT_DEFAULT = 10_000;
const LEDGER_LIMIT_MAX = 100_000;

export function controlRoutes(deps: { channels: SandboxChannel[]; faults: FaultSwitchboard }) {
  const { channels, faults } = deps;

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
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function assertNever(value: never): never {
  throw new Error(`unexpected pay outcome ${JSON.stringify(value)}`);
}
