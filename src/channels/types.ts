// The one interface every payment channel adapter implements. Adapters translate the channel's
// wire protocol into these normalized outcomes; channel field names never leak past this file.

import type { ChannelName } from '../domain/channels.ts';
import type { TradeStatus } from '../domain/trade-status.ts';
import type { RefundStatus } from '../domain/refunds.ts';
import type { BillLine } from '../domain/reconciliation.ts';

export type { BillLine, ChannelName, RefundStatus, TradeStatus };

/** What the buyer's client needs to pay: a QR code to show, or a URL to send the buyer to. */
export type PayAction =
  | { type: 'qr_code'; codeUrl: string }
  | { type: 'redirect'; url: string }
  /** The buyer's browser POSTs these fields to url (an auto-submitting form), as UnionPay's gateway wants. */
  | { type: 'form_post'; url: string; fields: Record<string, string> };

/** Names one trade at its channel: what query and close need besides the number. */
export interface TradeRef {
  outTradeNo: string;
  /** When the attempt was made; UnionPay identifies a trade by orderId and this time (txnTime). */
  createdAt: Date;
  /** The last moment the buyer may pay, as sent at creation (time_expire, payTimeout). */
  expiresAt: Date;
}

export interface CreatePaymentInput {
  /** Our attempt's out_trade_no: the channel-side idempotency key, reused on every retry. */
  outTradeNo: string;
  amountMinor: number;
  currency: 'CNY';
  /** Shown to the buyer; adapters truncate to the channel's limit. */
  description: string;
  /** Last moment the buyer may pay. Must be identical on a retry of the same outTradeNo. */
  expiresAt: Date;
  /** When the attempt was made; identical on every retry (UnionPay's txnTime). */
  createdAt: Date;
  method: string;
  /** Redirect methods: where the cashier sends the buyer back; unset, the channel's configured page. */
  returnUrl?: string;
}

export type CreatePaymentResult =
  | { kind: 'created'; action: PayAction }
  /** Timeout, 5xx, unsigned answer…: the trade may or may not exist; query it. */
  | { kind: 'unknown'; reason: string }
  /** A final business refusal (bad parameters, closed trade, …); the trade will never be payable. */
  | { kind: 'rejected'; code: string; message: string };

export type ClosePaymentResult =
  | { kind: 'closed' }
  /** The channel refused to close because the trade is paid: query it to learn the details. */
  | { kind: 'paid' }
  | { kind: 'not_found' }
  /**
   * The channel cannot close the trade now (UnionPay has no close call; an Alipay QR trade does not
   * exist until it is scanned) but refuses payment after `until`: keep watching it until then.
   */
  | { kind: 'closing'; until: Date }
  | { kind: 'unknown'; reason: string };

export interface RawHttpRequest {
  /** Header names lower-cased, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The body exactly as received; signatures are checked over these bytes. */
  rawBody: string;
}

export type NotificationResult =
  | {
      verified: true;
      /** The channel's own id of this notification (inbox dedupe key). */
      notificationId: string;
      outTradeNo: string;
      status: TradeStatus;
      refund?: undefined;
    }
  | {
      /** A refund's outcome (WeChat REFUND.*, an Alipay notice with out_biz_no, UnionPay txnType 04). */
      verified: true;
      notificationId: string;
      /** The refunded payment's out_trade_no (UnionPay: the original consume's orderId when present, else ''). */
      outTradeNo: string;
      refund: { outRefundNo: string; status: RefundStatus };
      status?: undefined;
    }
  | {
      verified: false;
      /** Stable reason code, e.g. `bad_signature`, `stale_timestamp`, `wrong_merchant`. */
      reason: string;
      notificationId?: string;
      /** When it could still be read (e.g. decrypted), so an active query can be triggered. */
      outTradeNo?: string;
    };

/** The HTTP answer the channel's protocol wants for an accepted or refused notification. */
export interface NotificationAck {
  statusCode: number;
  contentType: string;
  body: string;
}

/** Names one refund at its channel: what request and query need. */
export interface RefundRequest {
  /** Our refund number at the channel (out_refund_no, out_request_no, UnionPay orderId): the idempotency key, reused on every retry. */
  outRefundNo: string;
  /** When the refund was first made; identical on every retry (UnionPay's txnTime). */
  createdAt: Date;
  /** The paid trade being refunded. */
  trade: TradeRef;
  /** The channel's number of the paid trade (transaction_id, trade_no, UnionPay queryId → origQryId). */
  channelTradeNo: string;
  /** This refund's amount in fen. */
  amountMinor: number;
  /** The paid trade's total in fen (WeChat sends it with every refund). */
  totalMinor: number;
  currency: 'CNY';
  /** Shown to the buyer; adapters truncate to the channel's limit. */
  reason?: string;
}

export type BillResult =
  | { kind: 'bill'; lines: BillLine[] }
  /** The channel has not produced this day's bill yet (or the day is in the future): try later. */
  | { kind: 'not_ready'; reason: string }
  | { kind: 'unknown'; reason: string };

export interface Channel {
  readonly name: ChannelName;
  createPayment(input: CreatePaymentInput): Promise<CreatePaymentResult>;
  queryPayment(trade: TradeRef): Promise<TradeStatus>;
  closePayment(trade: TradeRef): Promise<ClosePaymentResult>;
  /** Asks for a refund; `processing` means accepted. Retries send the same RefundRequest. Never throws. */
  requestRefund(refund: RefundRequest): Promise<RefundStatus>;
  queryRefund(refund: RefundRequest): Promise<RefundStatus>;
  /** The day's bill, `date` being yyyy-MM-dd in Beijing time; downloaded, checked and parsed. Never throws. */
  fetchBill(date: string): Promise<BillResult>;
  /** Verifies signature, freshness and merchant identity, then decrypts. Never throws for bad input. */
  parseNotification(request: RawHttpRequest): Promise<NotificationResult>;
  notificationAck(accepted: boolean, message?: string): NotificationAck;
  /** The channel's own notification headers worth keeping as evidence (signature, ids; never a secret). */
  isEvidenceHeader(name: string): boolean;
}
