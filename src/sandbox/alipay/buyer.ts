// What the buyer does at Alipay: scan the QR code (or open the cashier page), which creates the
// trade in WAIT_BUYER_PAY, and pay, which makes it TRADE_SUCCESS and notifies the merchant.
// Used by the control API (/sandbox/pay, /sandbox/alipay/scan) and the cashier page alike.
import type { Logger } from '../../logger.ts';
import { lookUpTrade, type PayRefusal, type TradeLookup } from '../channel.ts';
import type { NewNotification } from '../notification-store.ts';
import type { Notifier } from '../notifier.ts';
import type { AlipayKey } from './alipay-key.ts';
import { paymentNotificationBody } from './notification.ts';
import {
  findTrade,
  findTradesByOutTradeNo,
  markTradePaidAndEnqueueNotification,
  openTrade,
  type PaidTrade,
  type Queryable,
  type TradeRow,
} from './store.ts';
import { newAlipayUserId, newBuyerLogonId, newNotifyId, newTradeNo } from './wire-format.ts';

export type Refused = { outcome: 'refused'; code: PayRefusal; message: string };
export type ScanResult = { outcome: 'opened'; trade: TradeRow } | Refused;
export type BuyerPayResult = { outcome: 'paid'; trade: PaidTrade; notificationDropped: boolean } | Refused;

export interface BuyerDeps {
  db: Queryable;
  log: Logger;
  notifier: Notifier;
  alipayKey: () => Promise<AlipayKey>;
}

/** The control API names a trade by out_trade_no, and the app id only when several apps use it. */
export async function findTradeForBuyer(db: Queryable, outTradeNo: string, appId: string | undefined): Promise<TradeLookup<TradeRow>> {
  return lookUpTrade(await findTradesByOutTradeNo(db, outTradeNo, appId), (t) => t.appId);
}

export class Buyer {
  constructor(private readonly deps: BuyerDeps) {}

  /** Scanning an open trade again changes nothing. */
  async scan(trade: TradeRow, now: Date): Promise<ScanResult> {
    const refusal = refusalOf(trade, now);
    if (refusal) return refusal;
    if (trade.status !== null) return { outcome: 'opened', trade };
    const opened = await openTrade(this.deps.db, trade, {
      tradeNo: newTradeNo(now), buyerId: newAlipayUserId(), buyerLogonId: newBuyerLogonId(), now,
    });
    if (opened) return { outcome: 'opened', trade: opened };
    // Scanned, paid or expired since the caller read it: say what won.
    return this.scan(await this.reread(trade), now);
  }

  /** A trade nobody opened yet is opened and paid at once (the buyer scans and pays). */
  async pay(trade: TradeRow, now: Date): Promise<BuyerPayResult> {
    const refusal = refusalOf(trade, now);
    if (refusal) return refusal;
    const { db, log, notifier } = this.deps;
    const paid: PaidTrade = {
      ...trade,
      status: 'TRADE_SUCCESS',
      tradeNo: trade.tradeNo ?? newTradeNo(now),
      buyerId: trade.buyerId ?? newAlipayUserId(),
      buyerLogonId: trade.buyerLogonId ?? newBuyerLogonId(),
      createdAt: trade.createdAt ?? now,
      paidAt: now,
    };
    const notification = trade.notifyUrl === null ? undefined : await this.notificationOf(paid, now);
    if (!(await markTradePaidAndEnqueueNotification(db, paid, trade.status, notification))) {
      const lost = refusalOf(await this.reread(trade), now);
      if (!lost) throw new Error(`trade ${trade.appId}/${trade.outTradeNo} was payable yet the payment did not apply`);
      return lost;
    }
    if (notification && trade.notifyUrl !== null) notifier.enqueued(notification, trade.notifyUrl);
    const notificationDropped = notification?.state === 'dropped';
    log.debug({ appId: trade.appId, outTradeNo: trade.outTradeNo, notificationId: notification?.id, notificationDropped }, 'sandbox alipay: trade paid');
    return { outcome: 'paid', trade: paid, notificationDropped };
  }

  private async notificationOf(paid: PaidTrade, now: Date): Promise<NewNotification> {
    const notifyId = newNotifyId();
    const { privateKey } = await this.deps.alipayKey();
    return this.deps.notifier.newNotification(notifyId, await paymentNotificationBody(paid, notifyId, privateKey, now), now);
  }

  private async reread(trade: TradeRow): Promise<TradeRow> {
    const current = await findTrade(this.deps.db, trade.appId, { outTradeNo: trade.outTradeNo });
    if (!current) throw new Error(`trade ${trade.appId}/${trade.outTradeNo} disappeared from the ledger`);
    return current;
  }
}

/** Why the buyer cannot scan or pay the trade now, if they cannot. */
function refusalOf(trade: TradeRow, now: Date): Refused | undefined {
  const id = `${trade.appId}/${trade.outTradeNo}`;
  if (trade.status === 'TRADE_SUCCESS') return { outcome: 'refused', code: 'trade_paid', message: `trade ${id} is already paid` };
  if (trade.status === 'TRADE_CLOSED') return { outcome: 'refused', code: 'trade_closed', message: `trade ${id} is closed` };
  if (trade.timeExpire.getTime() <= now.getTime()) {
    return { outcome: 'refused', code: 'trade_expired', message: `trade ${id} expired at ${trade.timeExpire.toISOString()}` };
  }
  return undefined;
}
