// The raw-SQL floor: the statements Paycenter must run for a submission and for a whole payment
// flow, issued straight through `pg` by the store functions themselves (they ARE the statements),
// with no HTTP, no Fastify, no service logic and no channel. What Paycenter adds on top of this
// is its own cost; the bench reports each HTTP figure as a share of this floor.
import { randomBytes } from 'node:crypto';
import { withTransaction, type Pool } from '../src/store/db.ts';
import { claimFingerprint } from '../src/store/submission-guard.ts';
import { insertAttempt, insertOrder, lockOrder, updateAttemptState, updateOrderState, type OrderRow } from '../src/store/orders.ts';
import { addJob } from '../src/store/jobs.ts';
import { insertNotification } from '../src/store/evidence.ts';
import { insertEvent } from '../src/store/events.ts';
import { orderFingerprint } from '../src/domain/fingerprint.ts';
import { newId, newOutTradeNo } from '../src/domain/ids.ts';
import { firstQueryAt, type QueryPolicy } from '../src/domain/schedule.ts';
import { queryJob } from '../src/services/active-query.ts';
import { orderView, paymentView } from '../src/services/views.ts';

export interface FloorSettings {
  appId: string;
  /** The same values Paycenter runs with, so the statements do the same work. */
  orderTtlMs: number;
  duplicateWindowMs: number;
  queryPolicy: QueryPolicy;
}

/** The content of order `key`: unique, so the guard claims every time. */
export function orderContent(key: string): { merchantOrderNo: string; amount: number; currency: 'CNY'; subject: string } {
  return { merchantOrderNo: `b-${key}`, amount: 1999, currency: 'CNY', subject: `Bench order ${key}` };
}

/** What submitOrder's transaction runs: BEGIN; guard claim; insert order (+ audit); COMMIT. */
async function submit(pool: Pool, s: FloorSettings, key: string): Promise<OrderRow> {
  const content = orderContent(key);
  const id = newId('ord');
  const fingerprint = orderFingerprint(s.appId, content);
  return withTransaction(pool, async (tx) => {
    const holder = await claimFingerprint(tx, s.appId, fingerprint, id, s.duplicateWindowMs);
    if (holder !== id) throw new Error(`floor: fingerprint of ${key} already claimed`);
    const order = await insertOrder(tx, {
      id,
      appId: s.appId,
      merchantOrderNo: content.merchantOrderNo,
      amountMinor: content.amount,
      currency: content.currency,
      subject: content.subject,
      description: null,
      customerId: null,
      metadata: null,
      expiresAt: new Date(Date.now() + s.orderTtlMs),
    });
    if (!order) throw new Error(`floor: merchantOrderNo of ${key} already used`);
    return order;
  });
}

export function submitFloorTask(pool: Pool, s: FloorSettings): (key: string) => Promise<void> {
  return async (key) => {
    await submit(pool, s, key);
  };
}

/** A WeChat Pay notification is about this big (envelope with the encrypted transaction). */
const NOTIFICATION_BODY_CHARS = 1_100;

/**
 * One whole flow as the essential store calls: submit; pay phase 1 (lock order, insert attempt,
 * order → PAYING, first query job); pay phase 2 (attempt → PENDING with the QR code); the
 * notification (store it, lock order, attempt → SUCCEEDED, order → PAID, event) in one transaction.
 */
export function flowFloorTask(pool: Pool, s: FloorSettings): (key: string) => Promise<void> {
  return async (key) => {
    const created = await submit(pool, s, key);
    const attempt = await withTransaction(pool, async (tx) => {
      const order = (await lockOrder(tx, created.id))!;
      const opened = await insertAttempt(tx, {
        id: newId('pay'),
        orderId: order.id,
        channel: 'wechatpay',
        method: 'native',
        outTradeNo: newOutTradeNo(),
        amountMinor: order.amountMinor,
        currency: order.currency,
        channelExpiresAt: order.expiresAt,
      });
      await updateOrderState(tx, order.id, 'CREATED', 'PAYING', `payment attempt ${opened.id} opened`);
      await addJob(tx, queryJob(opened.id, 0, firstQueryAt(s.queryPolicy, opened.createdAt, order.expiresAt)));
      return opened;
    });
    // One guarded statement on its own: the UPDATE … WHERE state = 'CREATING' is atomic by itself.
    const pending = (await updateAttemptState(pool, attempt.id, 'CREATING', 'PENDING', 'created at the channel', {
      action: { type: 'qr_code', codeUrl: `weixin://wxpay/bizpayurl?pr=${randomBytes(6).toString('base64url')}` },
    }))!;
    const notificationId = randomBytes(16).toString('hex');
    await withTransaction(pool, async (tx) => {
      await insertNotification(tx, {
        channel: 'wechatpay',
        notificationId,
        verified: true,
        refusalReason: null,
        outcome: 'paid',
        outTradeNo: attempt.outTradeNo,
        orderId: created.id,
        headers: notificationHeaders(),
        body: randomBytes((NOTIFICATION_BODY_CHARS * 3) / 4).toString('base64'),
      });
      const order = (await lockOrder(tx, created.id))!;
      const succeeded = (await updateAttemptState(tx, pending.id, 'PENDING', 'SUCCEEDED', 'channel reports the payment succeeded', {
        channelTradeNo: `42000${randomBytes(12).toString('hex')}`,
        paidAt: new Date(),
      }))!;
      const paid = (await updateOrderState(tx, order.id, 'PAYING', 'PAID', 'channel reports the payment succeeded', {
        paidAttemptId: succeeded.id,
      }))!;
      await insertEvent(tx, {
        id: newId('evt'),
        appId: s.appId,
        orderId: paid.id,
        type: 'order.paid',
        data: { order: { ...orderView(paid, []), payments: [paymentView(succeeded)] } },
      }, []);
    });
  };
}

function notificationHeaders(): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'paycenter-sandbox-wechatpay',
    'request-id': randomBytes(16).toString('hex'),
    'wechatpay-nonce': randomBytes(16).toString('hex'),
    'wechatpay-serial': `PUB_KEY_ID_${randomBytes(8).toString('hex')}`,
    'wechatpay-signature': randomBytes(256).toString('base64'),
    'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
    'wechatpay-timestamp': String(Math.floor(Date.now() / 1000)),
  };
}
