// The demo checkout at /demo, served by Paycenter itself when the sandbox is on: a tea shop whose
// business side (shop.ts) uses Paycenter as any merchant would, over the merchant API and signed
// webhooks, with the sandbox as the bank. Pages work without JavaScript; demo.js (same origin,
// no inline script) makes "Submit order" send every click and keeps the order page live.
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Html } from '../html.ts';
import { STYLESHEET } from '../console/style.ts';
import { sendPage as sendHtmlPage } from '../console/page.ts';
import { PaycenterApiError } from '../client/errors.ts';
import { findDemoShop } from '../store/demo.ts';
import type { ServiceContext } from '../services/context.ts';
import type { ChannelName } from '../domain/channels.ts';
import { isId } from '../domain/ids.ts';
import { newCartId, parseCart, PAY_CHOICES } from './catalogue.ts';
import { ensureDemoShop, shopInbox, shopSide, type ShopSide } from './shop.ts';
import {
  DEMO,
  DEMO_SCRIPT,
  DEMO_STYLESHEET,
  isPayable,
  isSettled,
  messagePage,
  orderPage,
  orderPath,
  shopPage,
  statusFragment,
  webhooksFragment,
} from './pages.ts';

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');
const SCRIPT = asset('demo.js');
const STYLES = STYLESHEET + asset('demo.css');

/** The shop's forms are a few fields. */
const FORM_BYTES_MAX = 8 * 1024;
/** An event is one order with its payments, a few KiB; this leaves room and still bounds a hostile body. */
const WEBHOOK_BYTES_MAX = 256 * 1024;
/** Paycenter's order ids: `ord_` and 22 base64url characters; anything else is no order of the shop's. */
/** Scripts from this origin only (demo.js); the QR code is inline SVG, so no images are needed besides. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export interface Demo {
  routes: FastifyPluginAsync;
  /** Once the server listens and knows its address: makes or repairs the shop's app and webhook endpoint. */
  open(baseUrl: string): Promise<void>;
}

/** `simulated`: the channels the sandbox plays; the shop offers only those. */
export function createDemo(ctx: ServiceContext, simulated: readonly ChannelName[]): Demo {
  const choices = PAY_CHOICES.filter((c) => simulated.includes(c.channel));
  let shop: ShopSide | undefined;
  const inbox = shopInbox(ctx.pool);

  const routes: FastifyPluginAsync = async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers();
    // Webhooks are verified over the exact bytes received, so JSON stays text here.
    app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: WEBHOOK_BYTES_MAX }, (_req, body, done) => done(null, body));
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BYTES_MAX }, (_req, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    app.setErrorHandler((err, req, reply) => {
      if (err instanceof PaycenterApiError) {
        req.log.warn({ err }, 'demo shop: Paycenter did not answer as expected');
        return sendPage(reply, messagePage('Paycenter did not answer', `The shop could not reach Paycenter (${err.code}); try again.`), 502);
      }
      const status = (err as { statusCode?: number }).statusCode;
      if (status && status >= 400 && status < 500) return sendPage(reply, messagePage('Not understood', 'Use the shop’s own forms.'), status);
      req.log.error({ err }, 'demo shop: unexpected error');
      return sendPage(reply, messagePage('Something went wrong', 'The error is in the log.'), 500);
    });

    const requireShop = (reply: FastifyReply): ShopSide | undefined => {
      if (!shop) sendPage(reply, messagePage('Starting', 'The shop opens in a moment; reload the page.'), 503);
      return shop;
    };

    app.get(DEMO_SCRIPT, async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(SCRIPT));
    app.get(DEMO_STYLESHEET, async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(STYLES));

    app.get(DEMO, async (_req, reply) => sendPage(reply, shopPage(newCartId())));

    // One click of "Submit order". demo.js asks for JSON and counts the answers; a form post
    // without it is sent on to the order.
    app.post(`${DEMO}/orders`, async (req, reply) => {
      const side = requireShop(reply);
      if (!side) return reply;
      const parsed = parseCart(formOf(req));
      if (!parsed.ok) {
        if (wantsJson(req)) return reply.code(400).send({ error: { code: 'invalid_cart', message: parsed.message } });
        return sendPage(reply, shopPage(newCartId(), parsed.message), 400);
      }
      const submission = await side.submit(parsed.cart);
      if (submission.outcome === 'refused') {
        req.log.warn({ submission }, 'demo shop: Paycenter refused the order');
        const message = `Paycenter refused the order: ${submission.code}: ${submission.message}`;
        if (wantsJson(req)) return reply.code(502).send({ error: { code: submission.code, message } });
        return sendPage(reply, shopPage(newCartId(), message), 502);
      }
      if (wantsJson(req)) return reply.code(submission.outcome === 'created' ? 201 : 200).send(submission);
      return reply.code(303).header('location', `${orderPath(submission.orderId)}?submitted=${submission.outcome}`).send();
    });

    app.get<{ Params: { id: string }; Querystring: { submitted?: string } }>(`${DEMO}/orders/:id`, async (req, reply) => {
      const side = requireShop(reply);
      if (!side) return reply;
      const view = isId('ord', req.params.id) ? await side.view(req.params.id) : undefined;
      if (!view) return sendPage(reply, messagePage('No such order', 'The shop has no order with this number.'), 404);
      return sendPage(reply, orderPage(view, choices, { submitted: req.query.submitted }));
    });

    // UnionPay's cashier posts the browser back to frontUrl; what it carries is not trusted
    // (the order page shows Paycenter's state), so it is only sent on to the page.
    app.post<{ Params: { id: string } }>(`${DEMO}/orders/:id`, async (req, reply) =>
      isId('ord', req.params.id) ? reply.code(303).header('location', orderPath(req.params.id)).send() : reply.code(404).send(),
    );

    app.get<{ Params: { id: string } }>(`${DEMO}/orders/:id/status`, async (req, reply) => {
      const side = requireShop(reply);
      if (!side) return reply;
      const view = isId('ord', req.params.id) ? await side.view(req.params.id) : undefined;
      if (!view) return reply.code(404).send({ error: { code: 'not_found', message: 'The shop has no such order.' } });
      return reply.header('cache-control', 'no-store').send({
        state: view.order.state,
        payable: isPayable(view.order.state),
        settled: isSettled(view),
        transitions: view.transitions,
        webhooks: view.webhooks.map((w) => ({ ...w, verified: true })),
        html: { status: statusFragment(view).value, webhooks: webhooksFragment(view).value },
      });
    });

    app.post<{ Params: { id: string } }>(`${DEMO}/orders/:id/pay`, async (req, reply) => {
      const side = requireShop(reply);
      if (!side) return reply;
      const { id } = req.params;
      const choice = choices.find((c) => c.value === formOf(req).method);
      if (!isId('ord', id) || !choice) return sendPage(reply, messagePage('Not understood', 'Choose a way to pay on the order page.'), 400);
      // The cashier sends the buyer back to this order's page, on the host the browser used.
      const answer = await side.pay(id, choice, `${req.protocol}://${req.headers.host}${orderPath(id)}`);
      if (answer.ok) return reply.code(303).header('location', orderPath(id)).send();
      const view = await side.view(id);
      if (!view) return sendPage(reply, messagePage('No such order', 'The shop has no order with this number.'), 404);
      const error = `${choice.label} could not be started: Paycenter answered ${answer.code}: ${answer.message}`;
      return sendPage(reply, orderPage(view, choices, { error }), answer.status === 409 ? 409 : 502);
    });

    // Paycenter's webhooks to the shop: verified with the endpoint's current secret and applied
    // once by the client kit's inbox; its answer tells Paycenter whether to deliver again.
    app.post(`${DEMO}/webhook`, async (req, reply) => {
      const current = await findDemoShop(ctx.pool);
      if (!current?.webhookSecret) return reply.code(503).send({ error: { code: 'shop_not_open', message: 'The demo shop has no webhook endpoint yet.' } });
      const answer = await inbox.handleWebhook({ headers: req.headers, rawBody: typeof req.body === 'string' ? req.body : '' }, current.webhookSecret);
      if (answer.status !== 200) req.log.warn({ err: answer.error, status: answer.status }, 'demo shop: webhook not applied');
      return reply.code(answer.status).type('application/json').send(answer.body);
    });
  };

  return {
    routes,
    async open(baseUrl) {
      const demoShop = await ensureDemoShop(ctx.pool, `${baseUrl}${DEMO}/webhook`);
      shop = shopSide(ctx.pool, baseUrl, demoShop);
    },
  };
}

/** The console's answer (no-store, HTML) with the shop's CSP. */
function sendPage(reply: FastifyReply, page: Html, status = 200): FastifyReply {
  return sendHtmlPage(reply.header('content-security-policy', CSP), page, status);
}

function formOf(req: FastifyRequest): Record<string, unknown> {
  return typeof req.body === 'object' && req.body !== null ? (req.body as Record<string, unknown>) : {};
}

function wantsJson(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('application/json');
}
