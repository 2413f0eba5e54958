// The gateway's back-end API (channels.md §3.4, §3.8, §3.9, docs/refunds-and-bills.md):
// queryTrans.do (consumes and refunds), backTransReq.do (refunds) and fileTransRequest.do (the
// daily file). Each takes a signed form and answers a signed, NOT URL-encoded `k=v&…` body
// carrying signPubKeyCert; every answer is signed, refusals included. Faults come after a
// request's checks, so a wrong request still learns what is wrong with it.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from '../../logger.ts';
import type { BillPlants } from '../bill-plants.ts';
import type { FaultSwitchboard } from '../faults.ts';
import { dropConnection } from '../http-replies.ts';
import { keepRawBodies } from '../raw-body.ts';
import type { AcpFields } from './acp-signature.ts';
import { signAsBank, type BankSigner } from './bank-signer.ts';
import { dailyBillFile } from './bill-file.ts';
import { parseFileRequest } from './file-request.ts';
import type { MerchantDirectory } from './merchants.ts';
import { fileAnswerFields, queryAnswerFields, refusedAnswerFields } from './messages.ts';
import { parseQuery } from './query-request.ts';
import { refundAcceptedFields, refundQueryAnswerFields } from './refund-messages.ts';
import { parseRefund } from './refund-request.ts';
import { findRefund } from './refund-store.ts';
import { acceptRefund, type RefundDeps } from './refunds.ts';
import { refusal } from './resp-codes.ts';
import { readSignedRequest } from './signed-request.ts';
import { findTrade, type Queryable } from './store.ts';
import { encodeUnencoded } from './wire-format.ts';

const API = '/sandbox/unionpay/gateway/api';

export interface ApiRouteDeps {
  db: Queryable;
  log: Logger;
  merchants: MerchantDirectory;
  signer: () => Promise<BankSigner>;
  faults: FaultSwitchboard;
  billPlants: BillPlants;
  refunds: RefundDeps;
}

export function unionpayApiRoutes(deps: ApiRouteDeps) {
  const { db, log, merchants, signer, faults, billPlants } = deps;

  const answer = async (reply: FastifyReply, fields: AcpFields): Promise<FastifyReply> =>
    reply.code(200).type('text/plain; charset=utf-8').send(encodeUnencoded(await signAsBank(fields, await signer())));

  /** The read faults (queries and files): a signed 06, or no answer at all; undefined when none strikes. */
  const readFault = (fields: AcpFields): AcpFields | 'drop' | undefined => {
    const fault = faults.current;
    if (faults.strikes(fault.queryErrorRate)) return refusedAnswerFields(fields, refusal('06', 'system busy (injected fault)'));
    return faults.strikes(fault.queryTimeoutRate) ? 'drop' : undefined;
  };

  return async function plugin(app: FastifyInstance): Promise<void> {
    keepRawBodies(app);

    app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
      if ((err.statusCode ?? 500) < 500) return answer(reply, refusedAnswerFields({}, refusal('10', err.message)));
      log.error({ err, url: req.url }, 'sandbox unionpay: API request failed');
      return answer(reply, refusedAnswerFields({}, refusal('06', 'sandbox internal error')));
    });

    app.post(`${API}/queryTrans.do`, async (req, reply) => {
      const request = await readSignedRequest(req, merchants);
      if (!request.ok) return answer(reply, refusedAnswerFields(request.fields, request.refusal));
      const parsed = parseQuery(request.fields);
      if (!parsed.ok) return answer(reply, refusedAnswerFields(request.fields, parsed.refusal));
      const fault = readFault(request.fields);
      if (fault === 'drop') return dropConnection(req, reply);
      if (fault) return answer(reply, fault);
      const { query } = parsed;
      // A refund never takes a consume's orderId; with txnTime the query names one or the other.
      const trade = await findTrade(db, query.merId, query.orderId);
      const refund = trade?.txnTime === query.txnTime ? undefined : await findRefund(db, query.merId, query.orderId);
      return answer(reply, refund ? refundQueryAnswerFields(query, refund) : queryAnswerFields(query, trade, new Date()));
    });

    app.post(`${API}/backTransReq.do`, async (req, reply) => {
      const request = await readSignedRequest(req, merchants);
      if (!request.ok) return answer(reply, refusedAnswerFields(request.fields, request.refusal));
      const parsed = parseRefund(request.fields);
      if (!parsed.ok) return answer(reply, refusedAnswerFields(request.fields, parsed.refusal));
      const accepted = await acceptRefund(deps.refunds, parsed.order, new Date());
      if (!accepted.ok) return answer(reply, refusedAnswerFields(request.fields, accepted.refusal));
      // The refund is accepted whatever happens to the answer: the merchant must query to learn it.
      if (faults.strikes(faults.current.createTimeoutRate)) return dropConnection(req, reply);
      return answer(reply, refundAcceptedFields(accepted.refund));
    });

    app.post(`${API}/fileTransRequest.do`, async (req, reply) => {
      const request = await readSignedRequest(req, merchants);
      if (!request.ok) return answer(reply, refusedAnswerFields(request.fields, request.refusal));
      const parsed = parseFileRequest(request.fields, new Date());
      if (!parsed.ok) return answer(reply, refusedAnswerFields(request.fields, parsed.refusal));
      const fault = readFault(request.fields);
      if (fault === 'drop') return dropConnection(req, reply);
      if (fault) return answer(reply, fault);
      const file = await dailyBillFile({ db, billPlants }, parsed.request.merId, parsed.request.day);
      return answer(reply, fileAnswerFields(parsed.request, file));
    });
  };
}
