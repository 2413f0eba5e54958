// The demo shop's business side: a merchant system like any other. It has its own Paycenter app
// and API key, calls the merchant API over HTTP as a shop would, and receives its events at
// /demo/webhook through the client kit (signature verified, each event applied once).
import { withTransaction, type Pool, type Tx } from '../store/db.ts';
import { insertApp } from '../store/apps.ts';
import { deleteWebhookEndpoint, insertWebhookEndpoint } from '../store/webhook-endpoints.ts';
import {
  findDemoShop,
  insertDemoShop,
  listReceivedWebhooks,
  lockDemoShop,
  setDemoShopEndpoint,
  setInboxOrderState,
  type ReceivedWebhookRow,
} from '../store/demo.ts';
import { newApiKey, newId } from '../domain/ids.ts';
import { takesReturnUrl } from '../domain/channels.ts';
import { sha256 } from '../domain/fingerprint.ts';
import { newWebhookSecret } from '../domain/webhook-signature.ts';
import { createInbox, type Inbox } from '../client/inbox.ts';
import { PaycenterApiError } from '../client/errors.ts';
import type { PaycenterOrder, PaycenterPayment } from '../client/types.ts';
import { orderInputOf, type Cart, type PayChoice } from './catalogue.ts';

const DEMO_APP_NAME = 'Demo shop';
/** A loopback call to our own API; longer means the server is in trouble, and the page says so. */
const PAYCENTER_CALL_TIMEOUT_MS = 10_000;
/** An order has a handful of events; more on the page would be noise. */
const WEBHOOKS_SHOWN_MAX = 50;

export interface DemoShop {
  appId: string;
  apiKey: string;
}

/**
 * Makes the shop's app, key and webhook endpoint on the first start, and points the endpoint at
 * this server's /demo/webhook when the address changed (or the endpoint was deleted or disabled).
 */
export async function ensureDemoShop(pool: Pool, webhookUrl: string): Promise<DemoShop> {
  return withTransaction(pool, async (tx) => {
    await lockDemoShop(tx);
    const existing = await findDemoShop(tx);
    if (existing && existing.webhookUrl === webhookUrl) return { appId: existing.appId, apiKey: existing.apiKey };
    const shop = existing ?? { appId: newId('app'), apiKey: newApiKey() };
    if (!existing) await insertApp(tx, shop.appId, DEMO_APP_NAME, sha256(shop.apiKey));
    else await deleteWebhookEndpoint(tx, existing.appId, existing.webhookEndpointId);
    const endpoint = await insertWebhookEndpoint(tx, {
      id: newId('we'),
      appId: shop.appId,
      url: webhookUrl,
      secret: newWebhookSecret(),
      eventTypes: null,
    });
    if (existing) await setDemoShopEndpoint(tx, endpoint.id);
    else await insertDemoShop(tx, { appId: shop.appId, apiKey: shop.apiKey, webhookEndpointId: endpoint.id });
    return { appId: shop.appId, apiKey: shop.apiKey };
  });
}

/** What Paycenter said to one click of "Submit order". */
export type Submission =
  | { outcome: 'created'; orderId: string; paycenterStatus: number }
  /** Paycenter recognised the cart: `code` is its reason, `orderId` the order it already has. */
  | { outcome: 'duplicate'; orderId: string; paycenterStatus: number; code: 'duplicate_submission' | 'merchant_order_no_exists' }
  | { outcome: 'refused'; paycenterStatus: number; code: string; message: string };

/** The order as the shop shows it: Paycenter's view, its state changes, and the events the shop received. */
export interface ShopOrderView {
  order: PaycenterOrder;
  transitions: { from: string | null; to: string; at: string }[];
  webhooks: ReceivedWebhookRow[];
}

export type PayAnswer = { ok: true; payment: PaycenterPayment } | { ok: false; status: number; code: string; message: string };

export interface ShopSide {
  submit(cart: Cart): Promise<Submission>;
  /** `returnUrl`: where a cashier sends the buyer back (redirect methods only). */
  pay(orderId: string, choice: PayChoice, returnUrl: string): Promise<PayAnswer>;
  /** Undefined when Paycenter has no such order in the shop's app. */
  view(orderId: string): Promise<ShopOrderView | undefined>;
}

interface Answer {
  status: number;
  body: unknown;
}

/** Paycenter's error body, `{"error": {code, message, orderId?}}`. */
function errorOf(answer: Answer): { status: number; code: string; message: string; orderId: unknown } {
  const error = (answer.body as { error?: { code?: unknown; message?: unknown; orderId?: unknown } } | null)?.error;
  return {
    status: answer.status,
    code: typeof error?.code === 'string' ? error.code : 'bad_response',
    message: typeof error?.message === 'string' ? error.message : `Paycenter answered ${answer.status}`,
    orderId: error?.orderId,
  };
}

export function shopSide(pool: Pool, baseUrl: string, shop: DemoShop): ShopSide {
  async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${shop.apiKey}`,
          accept: 'application/json',
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(PAYCENTER_CALL_TIMEOUT_MS),
      });
    } catch (err) {
      throw new PaycenterApiError(0, 'unreachable', `Paycenter at ${baseUrl} did not answer ${method} ${path}`, { cause: err });
    }
    const text = await res.text();
    try {
      return { status: res.status, body: JSON.parse(text) as unknown };
    } catch {
      throw new PaycenterApiError(res.status, 'bad_response', `Paycenter answered ${method} ${path} with ${res.status} and no JSON`);
    }
  }

  /** An answer the shop did not expect is Paycenter's problem to report, not a page to render. */
  const unexpected = (answer: Answer) => {
    const { status, code, message } = errorOf(answer);
    return new PaycenterApiError(status, code, message);
  };

  return {
    async submit(cart) {
      // No Idempotency-Key on purpose: the content guard is what this shop demonstrates.
      const answer = await call('POST', '/v1/orders', orderInputOf(cart));
      if (answer.status === 201) return { outcome: 'created', orderId: (answer.body as PaycenterOrder).id, paycenterStatus: 201 };
      const { status, code, message, orderId } = errorOf(answer);
      if (status === 409 && (code === 'duplicate_submission' || code === 'merchant_order_no_exists') && typeof orderId === 'string') {
        return { outcome: 'duplicate', orderId, paycenterStatus: status, code };
      }
      return { outcome: 'refused', paycenterStatus: status, code, message };
    },

    async pay(orderId, choice, returnUrl) {
      const answer = await call('POST', `/v1/orders/${encodeURIComponent(orderId)}/pay`, {
        channel: choice.channel,
        method: choice.method,
        ...(takesReturnUrl(choice.channel, choice.method) && { returnUrl }),
      });
      if (answer.status === 200) return { ok: true, payment: (answer.body as { payment: PaycenterPayment }).payment };
      const { status, code, message } = errorOf(answer);
      return { ok: false, status, code, message };
    },

    async view(orderId) {
      const id = encodeURIComponent(orderId);
      const order = await call('GET', `/v1/orders/${id}`);
      if (order.status === 404) return undefined;
      if (order.status !== 200) throw unexpected(order);
      const timeline = await call('GET', `/v1/orders/${id}/timeline`);
      if (timeline.status !== 200) throw unexpected(timeline);
      const transitions = (timeline.body as { data: Record<string, unknown>[] }).data
        .filter((e) => e.kind === 'transition' && e.entity === 'order')
        .map((e) => ({ from: (e.from as string | null) ?? null, to: String(e.to), at: String(e.at) }));
      const webhooks = await listReceivedWebhooks(pool, orderId, WEBHOOKS_SHOWN_MAX);
      return { order: order.body as PaycenterOrder, transitions, webhooks };
    },
  };
}

/** The shop's webhook receiver: the client kit's inbox, whose handler notes the order state the event carried. */
export function shopInbox(pool: Pool): Inbox {
  return createInbox<Tx>({
    pool,
    table: 'demo_inbox',
    handler: (event, tx) => setInboxOrderState(tx, event.id, event.data.order.state),
  });
}
