// What the demo shop sells, how a cart becomes a Paycenter order, and the ways to pay it. Pure:
// the routes parse the form with these and the shop sends the result.
import { randomBytes } from 'node:crypto';
import type { ChannelName } from '../domain/channels.ts';

export interface Product {
  id: string;
  name: string;
  priceMinor: number;
}

export const PRODUCTS: readonly Product[] = [
  { id: 'longjing', name: 'Longjing green tea, 100 g', priceMinor: 1999 },
  { id: 'jasmine', name: 'Jasmine pearls, 50 g', priceMinor: 1234 },
];

/** Per product: enough to show a total, small enough that no cart reaches an amount limit. */
export const QUANTITY_MAX = 9;

/** 16 random bytes, base64url: made when the shop page is served, so one page is one cart. */
const CART_ID = /^[A-Za-z0-9_-]{22}$/;

export function newCartId(): string {
  return randomBytes(16).toString('base64url');
}

export interface Cart {
  cartId: string;
  /** Every product, in catalogue order, with its quantity (0 for none). */
  lines: { product: Product; quantity: number }[];
}

export type CartParse = { ok: true; cart: Cart } | { ok: false; message: string };

/** The shop form's fields: `cart` and `qty.<product id>` for each product. */
export function parseCart(form: Record<string, unknown>): CartParse {
  const cartId = form.cart;
  if (typeof cartId !== 'string' || !CART_ID.test(cartId)) {
    return { ok: false, message: 'This cart is not one the shop made: reload the shop page.' };
  }
  const lines: Cart['lines'] = [];
  for (const product of PRODUCTS) {
    const value = form[`qty.${product.id}`] ?? '0';
    const quantity = typeof value === 'string' && /^\d{1,2}$/.test(value) ? Number(value) : NaN;
    if (!(quantity >= 0 && quantity <= QUANTITY_MAX)) {
      return { ok: false, message: `The quantity of ${product.name} must be a whole number from 0 to ${QUANTITY_MAX}.` };
    }
    lines.push({ product, quantity });
  }
  if (lines.every((l) => l.quantity === 0)) return { ok: false, message: 'Choose at least one item.' };
  return { ok: true, cart: { cartId, lines } };
}

function cartAmountMinor(cart: Cart): number {
  return cart.lines.reduce((sum, l) => sum + l.product.priceMinor * l.quantity, 0);
}

/**
 * The same cart always makes the same order content, so every click of "Submit order" sends
 * Paycenter an identical submission and its duplicate guard decides. The cart id is in the content
 * (metadata) so that two buyers' identical carts are two orders; the quantities are in
 * merchantOrderNo so that a cart changed after submitting is a new order, not a clash.
 */
export function orderInputOf(cart: Cart) {
  const chosen = cart.lines.filter((l) => l.quantity > 0);
  return {
    merchantOrderNo: `demo_${cart.cartId}_${cart.lines.map((l) => l.quantity).join('-')}`,
    amount: cartAmountMinor(cart),
    currency: 'CNY' as const,
    subject: `Demo tea shop: ${chosen.map((l) => `${l.product.name} × ${l.quantity}`).join(', ')}`,
    metadata: { cartId: cart.cartId, items: chosen.map((l) => `${l.product.id}:${l.quantity}`).join(' ') },
  };
}

export interface PayChoice {
  /** The form value: `<channel>.<method>`. */
  value: string;
  channel: ChannelName;
  method: string;
  label: string;
}

export const PAY_CHOICES: readonly PayChoice[] = [
  { value: 'wechatpay.native', channel: 'wechatpay', method: 'native', label: 'WeChat Pay (QR code)' },
  { value: 'alipay.qr', channel: 'alipay', method: 'qr', label: 'Alipay (QR code)' },
  { value: 'alipay.page', channel: 'alipay', method: 'page', label: 'Alipay (web cashier)' },
  { value: 'unionpay.gateway', channel: 'unionpay', method: 'gateway', label: 'UnionPay (web cashier)' },
];
