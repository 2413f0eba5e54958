// queryTrans.do (channels.md §3.4, §3.9): a signed query answered with a signed, NOT URL-encoded
// `k=v&…` body carrying signPubKeyCert. Every answer is signed, refusals included.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '../../logger.ts';
import type { FaultSwitchboard } from '../faults.ts';
import { dropConnection } from '../http-replies.ts';
import { keepRawBodies } from '../raw-body.ts';
import type { AcpFields } from './acp-signature.ts';
import { signAsBank, type BankSigner } from './bank-signer.ts';
import type { MerchantDirectory } from './merchants.ts';
import { queryAnswerFields, refusedAnswerFields } from './messages.ts';
import { parseQuery } from './query-request.ts';
import { refusal } from './resp-codes.ts';
import { readSignedRequest } from './signed-request.ts';
import { findTrade, type Queryable } from './store.ts';
import { encodeUnencoded } from './wire-format.ts';

const QUERY_TRANS_PATH = '/sandbox/unionpay/gateway/api/queryTrans.do';

export interface QueryRouteDeps {
  db: Queryable;
  log: Logger;
  merchants: MerchantDirectory;
  signer: () => Promise<BankSigner>;
  faults: FaultSwitchboard;
}

export function unionpayQueryRoute(deps: QueryRouteDeps) {
  const { db, log, merchants, signer, faults } = deps;

  const answer = async (reply: FastifyReply, fields: AcpFields): Promise<FastifyReply> =>
    reply.code(200).type('text/plain; charset=utf-8').send(encodeUnencoded(await signAsBank(fields, await signer())));

  return async function plugin(app: FastifyInstance): Promise<void> {
    keepRawBodies(app);

    app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
      if ((err.statusCode ?? 500) < 500) return answer(reply, refusedAnswerFields({}, refusal('10', err.message)));
      log.error({ err, url: req.url }, 'sandbox unionpay: query failed');
      return answer(reply, refusedAnswerFields({}, refusal('06', 'sandbox internal error')));
    });

    app.post(QUERY_TRANS_PATH, async (req, reply) => {
      const request = await readSignedRequest(req, merchants);
      if (!request.ok) return answer(reply, refusedAnswerFields(request.fields, request.refusal));
      const parsed = parseQuery(request.fields);
      if (!parsed.ok) return answer(reply, refusedAnswerFields(request.fields, parsed.refusal));
      // Faults come after the checks, so a wrong query still learns what is wrong with it.
      const fault = faults.current;
      if (faults.strikes(fault.queryErrorRate)) {
        return answer(reply, refusedAnswerFields(request.fields, refusal('06', 'system busy (injected fault)')));
      }
      if (faults.strikes(fault.queryTimeoutRate)) return dropConnection(req, reply);
      const { query } = parsed;
      const trade = await findTrade(db, query.merId, query.orderId);
      return answer(reply, queryAnswerFields(query, trade, new Date()));
    });
  };
}
