// The fields of what the bank says about a refund (before signing): the synchronous acceptance, the
// backUrl notification on completion, and the query answer (channels.md §3.4–§3.6,
// docs/refunds-and-bills.md). One place builds the refund's own fields, so all three agree.
import type { AcpFields } from './acp-signature.ts';
import { header, notFoundAnswerFields, reqReservedOf, resp } from './messages.ts';
import type { TransactionQuery } from './query-request.ts';
import { RESP_MSG } from './resp-codes.ts';
import type { RefundRow, RefundState } from './refund-store.ts';

/** The refund's orderId, txnTime, amount and numbers, as every message about it repeats them. */
function refundFields(refund: RefundRow): AcpFields {
  return {
    ...header('04', '00', refund),
    txnAmt: String(refund.txnAmt),
    currencyCode: '156',
    queryId: refund.queryId,
    origQryId: refund.origQryId,
    ...reqReservedOf(refund),
  };
}

/** respCode 00 on backTransReq.do: accepted, not yet done (§3.6); a resend gets the same. */
export function refundAcceptedFields(refund: RefundRow): AcpFields {
  return { ...refundFields(refund), ...resp('00') };
}

/** The refund's code once finished: 00 success, 01 (交易失败) for a failure, 05 while processing. */
function refundRespCode(state: RefundState): '00' | '01' | '05' {
  switch (state) {
    case 'SUCCEEDED':
      return '00';
    case 'FAILED':
      return '01';
    case 'PROCESSING':
      return '05';
    default: {
      const impossible: never = state;
      throw new Error(`unknown refund state ${String(impossible)}`);
    }
  }
}

/** The backUrl notification, sent on completion whether the refund succeeded or failed (§3.5). */
export function refundNotificationFields(refund: RefundRow, state: Exclude<RefundState, 'PROCESSING'>): AcpFields {
  return { ...refundFields(refund), ...resp(refundRespCode(state)) };
}

/** queryTrans.do about a refund: 34 unless orderId and txnTime both match, else its state in origRespCode. */
export function refundQueryAnswerFields(q: TransactionQuery, refund: RefundRow): AcpFields {
  if (refund.txnTime !== q.txnTime) return notFoundAnswerFields(q);
  const orig = refundRespCode(refund.state);
  // The query's own header (txnType 00) over the refund's.
  return { ...refundFields(refund), ...header('00', '00', q), ...resp('00'), origRespCode: orig, origRespMsg: RESP_MSG[orig] };
}
