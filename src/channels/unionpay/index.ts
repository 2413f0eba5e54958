// UnionPay online gateway adapter (ACP 5.1.0, B2C gateway consume) behind the Channel interface.
// Creating a payment makes no call: it signs the form the buyer's browser posts to UnionPay. Close
// has no call either (UnionPay refuses payment after payTimeout), so it queries and reports
// `closing` until the answer becomes final. Refunds go to backTransReq.do and are queried like
// consumes; the bill comes from the file host. Nothing unverified is trusted (G5) and nothing is
// inferred from silence (G6).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { UnionpayConfig } from '../../config/unionpay.ts';
import type {
  Channel,
  BillResult,
  ClosePaymentResult,
  CreatePaymentInput,
  CreatePaymentResult,
  NotificationResult,
  RawHttpRequest,
  RefundRequest,
  RefundStatus,
  TradeRef,
  TradeStatus,
} from '../types.ts';
import { readKey } from '../validate.ts';
import { MAX_BILL_RESPONSE_BYTES, billDayOf, billFromAnswer } from './bill.ts';
import { createCertificateChecker } from './certificates.ts';
import { tradeStatusFromQuery } from './classify.ts';
import {
  billFields,
  frontConsumeFields,
  queryFields,
  refundFields,
  validateCreateInput,
  validateRefund,
  type MerchantIdentity,
} from './messages.ts';
import { buildNotificationAck, parseUnionpayNotification } from './notification.ts';
import { refundStatusFromQuery, refundStatusFromRequest } from './refund.ts';
import { certIdOf, signedFields } from './sign.ts';
import { callUnionpay, type CallContext } from './transport.ts';

export interface UnionpayChannelOptions {
  now?: () => Date;
}

export function createUnionpayChannel(config: UnionpayConfig, opts: UnionpayChannelOptions = {}): Channel {
  const now = opts.now ?? (() => new Date());
  const base = config.gatewayUrl.replace(/\/+$/, '');
  const frontTransUrl = `${base}/gateway/api/frontTransReq.do`;
  const queryTransUrl = new URL(`${base}/gateway/api/queryTrans.do`);
  const backTransUrl = new URL(`${base}/gateway/api/backTransReq.do`);
  const fileTransUrl = new URL(`${config.fileUrl.replace(/\/+$/, '')}/gateway/api/fileTransRequest.do`);
  // Keys and certificates are parsed once here, not per call.
  const ctx: CallContext = {
    privateKey: readKey('unionpay privateKey', () => createPrivateKey(config.privateKey)),
    checker: createCertificateChecker(config),
    timeoutMs: config.requestTimeoutMs,
    now,
  };
  const identity: MerchantIdentity = {
    merId: config.merId,
    certId: certIdOf(new X509Certificate(config.signCert)),
    channelType: config.channelType,
    frontUrl: config.frontUrl,
    backUrl: config.backUrl,
  };
  /** After payTimeout plus the grace UnionPay refuses payment, so what it says then is final. */
  const finalAtMs = (ref: TradeRef) => ref.expiresAt.getTime() + config.expiryGraceMs;

  async function createPayment(input: CreatePaymentInput): Promise<CreatePaymentResult> {
    const invalid = validateCreateInput(input);
    if (invalid) return invalid;
    const fields = await signedFields(ctx.privateKey, frontConsumeFields(identity, input));
    return { kind: 'created', action: { type: 'form_post', url: frontTransUrl, fields: Object.fromEntries(fields) } };
  }

  async function queryPayment(ref: TradeRef): Promise<TradeStatus> {
    // Taken before sending: the answer is at least this recent, so it is final only if this is.
    const sentAt = now();
    const fact = await callUnionpay(ctx, queryTransUrl, queryFields(identity, ref.outTradeNo, ref.createdAt));
    return tradeStatusFromQuery(fact, {
      merId: config.merId,
      orderId: ref.outTradeNo,
      final: sentAt.getTime() > finalAtMs(ref),
      now: sentAt,
    });
  }

  async function closePayment(ref: TradeRef): Promise<ClosePaymentResult> {
    const status = await queryPayment(ref);
    switch (status.kind) {
      case 'paid':
        return { kind: 'paid' };
      case 'closed':
        return { kind: 'closed' };
      case 'unknown':
        return { kind: 'unknown', reason: status.reason };
      case 'not_paid':
      case 'not_found':
        // Only before the final moment (after it queryPayment says closed): the buyer may still pay
        // until payTimeout, so the trade is watched until its answer becomes final.
        return { kind: 'closing', until: new Date(finalAtMs(ref)) };
      default: {
        const unreachable: never = status;
        throw new Error(`unhandled unionpay status ${JSON.stringify(unreachable)}`);
      }
    }
  }

  async function requestRefund(refund: RefundRequest): Promise<RefundStatus> {
    const invalid = validateRefund(refund);
    if (invalid) return invalid;
    const fact = await callUnionpay(ctx, backTransUrl, refundFields(identity, refund));
    return refundStatusFromRequest(fact, { merId: config.merId, orderId: refund.outRefundNo });
  }

  /** The refund is a transaction of its own: queried by its orderId and txnTime, not the consume's. */
  async function queryRefund(refund: RefundRequest): Promise<RefundStatus> {
    const invalid = validateRefund(refund);
    if (invalid) return invalid;
    const sentAt = now();
    const fact = await callUnionpay(ctx, queryTransUrl, queryFields(identity, refund.outRefundNo, refund.createdAt));
    return refundStatusFromQuery(fact, { merId: config.merId, orderId: refund.outRefundNo }, sentAt);
  }

  async function fetchBill(date: string): Promise<BillResult> {
    const sentAt = now();
    const day = billDayOf(date, sentAt, config.merId);
    if ('kind' in day) return day;
    const fact = await callUnionpay(ctx, fileTransUrl, billFields(identity, day.settleDate, sentAt), MAX_BILL_RESPONSE_BYTES);
    return billFromAnswer(fact, day);
  }

  async function parseNotification(request: RawHttpRequest): Promise<NotificationResult> {
    return parseUnionpayNotification(request, { checker: ctx.checker, merId: config.merId, now: now() });
  }

  return {
    name: 'unionpay',
    createPayment,
    queryPayment,
    closePayment,
    requestRefund,
    queryRefund,
    fetchBill,
    parseNotification,
    notificationAck: buildNotificationAck,
    // UnionPay signs inside the body (signature, signPubKeyCert); no header is evidence.
    isEvidenceHeader: () => false,
  };
}
