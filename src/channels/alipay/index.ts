// Alipay Open Platform adapter (RSA2, public-key mode; QR precreate and computer-website page pay;
// refunds and the daily bill in refund.ts and bill.ts) behind the Channel interface. Each
// operation: build the parameters, make one signed call, classify the answer (classify.ts), and
// read what that answer means for this operation. Nothing unverified is trusted (G5) and nothing
// is inferred from silence (G6): every doubt is `unknown`, which the caller resolves by querying.
//
// An Alipay QR or page trade does not exist until the buyer scans or opens it, so "trade does not
// exist" means "not yet" until the trade's time_expire (plus a grace for clock differences) has
// passed; only then is it final.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { AlipayConfig } from '../../config/alipay.ts';
import type {
  Channel,
  ClosePaymentResult,
  CreatePaymentInput,
  CreatePaymentResult,
  NotificationResult,
  RawHttpRequest,
  RefundRequest,
  TradeRef,
  TradeStatus,
} from '../types.ts';
import { readKey, rejectInvalidExpiry, rejectUnsupportedInput, type CreateRejection } from '../validate.ts';
import { misnamedField, wrongSubject } from './answer-names.ts';
import { fetchAlipayBill } from './bill.ts';
import { classify, closeDecision, createDecision, queryDecision } from './classify.ts';
import { buildNotificationAck, parseAlipayNotification } from './notification.ts';
import { AMOUNT_MINOR_MAX, encodeForm, pagePayBizContent, precreateBizContent, signedParams, tradeRefBizContent } from './params.ts';
import { queryAlipayRefund, requestAlipayRefund } from './refund.ts';
import { tradeStatusFromAlipay } from './trade.ts';
import { callAlipay, type CallContext } from './transport.ts';

export interface AlipayChannelOptions {
  now?: () => Date;
  userAgent?: string;
}

const DEFAULT_USER_AGENT = `Paycenter/0.1 (Node.js ${process.versions.node})`;

export function createAlipayChannel(config: AlipayConfig, opts: AlipayChannelOptions = {}): Channel {
  const now = opts.now ?? (() => new Date());
  // KeyObjects are parsed once here, not per call.
  const ctx: CallContext = {
    gatewayUrl: config.gatewayUrl,
    appId: config.appId,
    privateKey: readKey('alipay privateKey', () => createPrivateKey(config.privateKey)),
    alipayPublicKey: readKey('alipay alipayPublicKey', () => createPublicKey(config.alipayPublicKey)),
    timeoutMs: config.requestTimeoutMs,
    userAgent: opts.userAgent ?? DEFAULT_USER_AGENT,
    now,
  };
  /** Past this moment Alipay refuses payment of the trade, with room for clock differences. */
  const finalAfter = (ref: TradeRef): Date => new Date(ref.expiresAt.getTime() + config.expiryGraceMs);

  async function createPayment(input: CreatePaymentInput): Promise<CreatePaymentResult> {
    const invalid = validateCreateInput(input);
    if (invalid) return invalid;
    if (input.method === 'page') return { kind: 'created', action: { type: 'redirect', url: await pagePayUrl(input) } };

    const answer = classify(
      await callAlipay(ctx, 'alipay.trade.precreate', precreateBizContent(input), { notify_url: config.notifyUrl }),
    );
    switch (createDecision(answer.category)) {
      case 'success': {
        const qrCode = answer.node?.qr_code;
        if (typeof qrCode !== 'string' || qrCode === '') {
          // Signed success without a QR code: the trade may exist, so query rather than fail it.
          return { kind: 'unknown', reason: `malformed_answer: no qr_code; ${answer.reason}` };
        }
        if (misnamedField(answer, { out_trade_no: input.outTradeNo })) return wrongSubject(answer, 'out_trade_no');
        return { kind: 'created', action: { type: 'qr_code', codeUrl: qrCode } };
      }
      case 'rejected':
        return { kind: 'rejected', code: answer.code, message: answer.message || answer.reason };
      case 'unknown':
        return { kind: 'unknown', reason: answer.reason };
    }
  }

  /**
   * No call is made: the signed parameters go into a GET URL on the gateway, which the buyer's
   * browser opens; Alipay creates the trade then.
   */
  async function pagePayUrl(input: CreatePaymentInput): Promise<string> {
    const params = await signedParams(ctx, 'alipay.trade.page.pay', pagePayBizContent(input), now(), {
      notify_url: config.notifyUrl,
      return_url: input.returnUrl ?? config.returnUrl,
    });
    return `${config.gatewayUrl}?${encodeForm(params)}`;
  }

  async function queryPayment(ref: TradeRef): Promise<TradeStatus> {
    // Taken before sending: the answer is at least this recent, so it is final only if this is.
    const sentAt = now();
    const answer = classify(await callAlipay(ctx, 'alipay.trade.query', tradeRefBizContent(ref.outTradeNo)));
    switch (queryDecision(answer.category)) {
      case 'success':
        // The query must name our trade; an answer about another one says nothing about ours.
        if (!answer.node || answer.node.out_trade_no !== ref.outTradeNo) return wrongSubject(answer, 'out_trade_no');
        return tradeStatusFromAlipay(answer.node, 'send_pay_date', now());
      case 'not_exist':
        // Not scanned yet: the QR can still be scanned until time_expire, after which it never will.
        return sentAt > finalAfter(ref) ? { kind: 'closed' } : { kind: 'not_found' };
      case 'unknown':
        return { kind: 'unknown', reason: answer.reason };
    }
  }

  async function closePayment(ref: TradeRef): Promise<ClosePaymentResult> {
    const sentAt = now();
    const answer = classify(await callAlipay(ctx, 'alipay.trade.close', tradeRefBizContent(ref.outTradeNo)));
    switch (closeDecision(answer.category)) {
      case 'closed':
        return misnamedField(answer, { out_trade_no: ref.outTradeNo }) ? wrongSubject(answer, 'out_trade_no') : { kind: 'closed' };
      case 'not_exist': {
        // Nothing to close yet, and a close cannot stop a later scan: watch it until it can no longer be paid.
        const until = finalAfter(ref);
        return sentAt > until ? { kind: 'closed' } : { kind: 'closing', until };
      }
      case 'paid':
        return { kind: 'paid' };
      case 'query': {
        // Only WAIT_BUYER_PAY trades can be closed; this one is past it, either paid or closed already.
        const status = await queryPayment(ref);
        if (status.kind === 'paid' || status.kind === 'closed') return { kind: status.kind };
        const detail = status.kind === 'unknown' ? status.reason : status.kind;
        return { kind: 'unknown', reason: `${answer.reason}; then query: ${detail}` };
      }
      case 'unknown':
        return { kind: 'unknown', reason: answer.reason };
    }
  }

  async function parseNotification(request: RawHttpRequest): Promise<NotificationResult> {
    return parseAlipayNotification(request, {
      alipayPublicKey: ctx.alipayPublicKey,
      appId: config.appId,
      sellerId: config.sellerId,
      now: now(),
    });
  }

  return {
    name: 'alipay',
    createPayment,
    queryPayment,
    closePayment,
    requestRefund: (refund: RefundRequest) => requestAlipayRefund(ctx, refund),
    queryRefund: (refund: RefundRequest) => queryAlipayRefund(ctx, refund),
    fetchBill: (date: string) => fetchAlipayBill(ctx, date),
    parseNotification,
    notificationAck: buildNotificationAck,
    // Alipay signs inside the body; no header proves anything.
    isEvidenceHeader: () => false,
  };
}

/** Refuses locally what Alipay must never see: an unknown method, a bad amount, a foreign currency, a bad date. */
function validateCreateInput(input: CreatePaymentInput): CreateRejection | undefined {
  const unsupported = rejectUnsupportedInput(input, { channel: 'alipay', methods: ['qr', 'page'], amountMinorMax: AMOUNT_MINOR_MAX });
  if (unsupported) return unsupported;
  if (typeof input.description !== 'string' || input.description.trim() === '') {
    return { kind: 'rejected', code: 'invalid_description', message: 'description (Alipay subject) must not be empty' };
  }
  return rejectInvalidExpiry(input);
}
