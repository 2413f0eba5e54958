// WeChat Pay API v3 adapter (direct merchant: Native payments, refunds, daily bills) behind the
// Channel interface.
// Each operation: build the request, make one signed call, classify the answer (classify.ts), and
// read what that answer means for this operation. Nothing unverified is trusted (G5) and nothing
// is inferred from silence (G6): every doubt is `unknown`, which the caller resolves by querying.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { WechatpayConfig } from '../../config.ts';
import type {
  BillResult,
  Channel,
  ClosePaymentResult,
  CreatePaymentInput,
  CreatePaymentResult,
  RawHttpRequest,
  NotificationResult,
  RefundRequest,
  RefundStatus,
  TradeRef,
  TradeStatus,
} from '../types.ts';
import { readKey, rejectInvalidExpiry, rejectUnsupportedInput, type CreateRejection } from '../validate.ts';
import { checkBillDate } from '../bill-date.ts';
import { billRefusalOutcome, readBillDownload, readBillFile } from './bill.ts';
import { classify, describeSuccess } from './classify.ts';
import { buildNativeOrderBody } from './native-order.ts';
import { buildNotificationAck, parseWechatpayNotification } from './notification.ts';
import { buildRefundBody, refundQueryOutcome, refundRequestOutcome, rejectInvalidRefund } from './refund.ts';
import { readJsonObject, tradeStatusFromTransaction } from './transaction.ts';
import { callWechatpay, downloadBillFile, type CallContext } from './transport.ts';

export interface WechatpayChannelOptions {
  now?: () => Date;
  userAgent?: string;
}

const REFUNDS_PATH = '/v3/refund/domestic/refunds';
const DEFAULT_USER_AGENT = `Paycenter/0.1 (Node.js ${process.versions.node})`;

export function createWechatpayChannel(config: WechatpayConfig, opts: WechatpayChannelOptions = {}): Channel {
  const now = opts.now ?? (() => new Date());
  // KeyObjects are parsed once here, not per call.
  const ctx: CallContext = {
    baseUrl: config.apiBaseUrl.replace(/\/+$/, ''),
    mchId: config.mchId,
    certSerialNo: config.certSerialNo,
    privateKey: readKey('wechatpay privateKey', () => createPrivateKey(config.privateKey)),
    platform: {
      publicKey: readKey('wechatpay platformPublicKey', () => createPublicKey(config.platformPublicKey)),
      publicKeyId: config.platformPublicKeyId,
    },
    timeoutMs: config.requestTimeoutMs,
    userAgent: opts.userAgent ?? DEFAULT_USER_AGENT,
    now,
  };
  const apiV3Key = Buffer.from(config.apiV3Key, 'utf8');
  const mchIdQuery = `mchid=${encodeURIComponent(config.mchId)}`;
  const tradePath = (outTradeNo: string): string =>
    `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}`;

  async function createPayment(input: CreatePaymentInput): Promise<CreatePaymentResult> {
    const invalid = validateCreateInput(input);
    if (invalid) return invalid;
    const body = buildNativeOrderBody(config, input);
    const answer = classify(await callWechatpay(ctx, 'POST', '/v3/pay/transactions/native', body));
    switch (answer.outcome) {
      case 'success': {
        const codeUrl = readJsonObject(answer.body)?.code_url;
        if (typeof codeUrl === 'string' && codeUrl !== '') return { kind: 'created', action: { type: 'qr_code', codeUrl } };
        // A signed 2xx without a code_url: the trade may exist, so query rather than fail it.
        return { kind: 'unknown', reason: `malformed_answer: no code_url; ${describeSuccess(answer)}` };
      }
      case 'rejected':
        switch (answer.category) {
          // The trade exists at WeChat (it may even be paid): only a query can say what it is.
          case 'order_paid':
          case 'out_trade_no_used':
            return { kind: 'unknown', reason: answer.reason };
          default:
            return { kind: 'rejected', code: answer.code, message: answer.message || answer.reason };
        }
      case 'unknown':
        return { kind: 'unknown', reason: answer.reason };
    }
  }

  async function queryPayment({ outTradeNo }: TradeRef): Promise<TradeStatus> {
    const answer = classify(await callWechatpay(ctx, 'GET', `${tradePath(outTradeNo)}?${mchIdQuery}`));
    switch (answer.outcome) {
      case 'success': {
        const tx = readJsonObject(answer.body);
        if (!tx) return { kind: 'unknown', reason: `malformed_answer: not a JSON object; ${describeSuccess(answer)}` };
        if (tx.out_trade_no !== outTradeNo || tx.mchid !== config.mchId || tx.appid !== config.appId) {
          return { kind: 'unknown', reason: `wrong_trade: answer names another trade or merchant; ${describeSuccess(answer)}` };
        }
        return tradeStatusFromTransaction(tx);
      }
      case 'rejected':
        // A query cannot fail a trade: anything but "does not exist" is asked again.
        return answer.category === 'order_not_exist'
          ? { kind: 'not_found' }
          : { kind: 'unknown', reason: answer.reason };
      case 'unknown':
        return { kind: 'unknown', reason: answer.reason };
    }
  }

  async function closePayment({ outTradeNo }: TradeRef): Promise<ClosePaymentResult> {
    const body = JSON.stringify({ mchid: config.mchId });
    const answer = classify(await callWechatpay(ctx, 'POST', `${tradePath(outTradeNo)}/close`, body));
    switch (answer.outcome) {
      case 'success':
        return { kind: 'closed' };
      case 'rejected':
        switch (answer.category) {
          case 'order_not_exist':
            return { kind: 'not_found' };
          case 'order_paid':
            return { kind: 'paid' };
          case 'order_closed':
            return { kind: 'closed' };
          default:
            return { kind: 'unknown', reason: answer.reason };
        }
      case 'unknown':
        return { kind: 'unknown', reason: answer.reason };
    }
  }

  async function requestRefund(refund: RefundRequest): Promise<RefundStatus> {
    const invalid = rejectInvalidRefund(refund);
    if (invalid) return invalid;
    // Refund notices come to the same endpoint as payment notices.
    const body = buildRefundBody(config.notifyUrl, refund);
    return refundRequestOutcome(classify(await callWechatpay(ctx, 'POST', REFUNDS_PATH, body)), refund);
  }

  async function queryRefund(refund: RefundRequest): Promise<RefundStatus> {
    const path = `${REFUNDS_PATH}/${encodeURIComponent(refund.outRefundNo)}`;
    return refundQueryOutcome(classify(await callWechatpay(ctx, 'GET', path)), refund);
  }

  async function fetchBill(date: string): Promise<BillResult> {
    const invalid = checkBillDate(date, now());
    if (invalid) return invalid;
    const query = `bill_date=${date}&bill_type=ALL`;
    const answer = classify(await callWechatpay(ctx, 'GET', `/v3/bill/tradebill?${query}`));
    if (answer.outcome !== 'success') return billRefusalOutcome(answer);
    const download = readBillDownload(answer, ctx.baseUrl);
    if (download.kind === 'unknown') return download;
    return readBillFile(await downloadBillFile(ctx, download.url), download.hashValue);
  }

  async function parseNotification(request: RawHttpRequest): Promise<NotificationResult> {
    return parseWechatpayNotification(request, {
      platform: ctx.platform,
      apiV3Key,
      mchId: config.mchId,
      appId: config.appId,
      nowMs: now().getTime(),
    });
  }

  return {
    name: 'wechatpay',
    createPayment,
    queryPayment,
    closePayment,
    requestRefund,
    queryRefund,
    fetchBill,
    parseNotification,
    notificationAck: buildNotificationAck,
    isEvidenceHeader: (name) => name.startsWith('wechatpay-') || name === 'request-id',
  };
}

/** Refuses locally what WeChat must never see: a non-integer amount, a foreign currency, a bad date. */
function validateCreateInput(input: CreatePaymentInput): CreateRejection | undefined {
  return rejectUnsupportedInput(input, { channel: 'wechatpay', methods: ['native'] }) ?? rejectInvalidExpiry(input);
}
