// The orders most tests start from: one with an open payment, and one paid through the sandbox.
import { expect } from 'vitest';
import { buyerPays } from '../../src/harness/buyer.ts';
import { orderBody, type TestPaycenter } from './paycenter.ts';

export interface OrderChoice {
  channel?: string;
  /** The channel's default method when unset (Alipay's is page pay; `qr` needs no browser). */
  method?: string;
  /** Fields of the order body to override (amount, customerId, …). */
  order?: Record<string, unknown>;
}

export interface OpenOrder {
  id: string;
  merchantOrderNo: string;
  outTradeNo: string;
  payment: Parameters<typeof buyerPays>[1] & { id: string; outTradeNo: string };
}

export async function payingOrder(pc: TestPaycenter, choice: OrderChoice = {}): Promise<OpenOrder> {
  const order = await pc.api('POST', '/v1/orders', orderBody(choice.order));
  expect(order.status, JSON.stringify(order.body)).toBe(201);
  const pay = await pc.api('POST', `/v1/orders/${order.body.id}/pay`, {
    channel: choice.channel ?? 'wechatpay',
    ...(choice.method && { method: choice.method }),
  });
  expect(pay.status, JSON.stringify(pay.body)).toBe(200);
  return { id: order.body.id, merchantOrderNo: order.body.merchantOrderNo, outTradeNo: pay.body.payment.outTradeNo, payment: pay.body.payment };
}

/** An order the buyer paid at the sandbox bank, once Paycenter has it PAID. */
export async function paidOrder(pc: TestPaycenter, choice: OrderChoice = {}): Promise<OpenOrder> {
  const order = await payingOrder(pc, choice);
  expect((await buyerPays(pc.baseUrl, order.payment)).status).toBe(200);
  expect((await pc.waitForState(order.id, 'PAID')).state).toBe('PAID');
  return order;
}
