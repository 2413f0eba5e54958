// The operator console at /console: sessions from an HttpOnly, SameSite=Strict cookie, a CSRF
// token on every state-changing request, server-rendered pages that work without JavaScript.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ServiceContext } from '../services/context.ts';
import type { Config } from '../config.ts';
import { PaycenterError } from '../domain/errors.ts';
import { SESSION_TTL_MS } from '../domain/operators.ts';
import { sessionFor, signIn, signOut } from '../services/operators.ts';
import type { SessionRow } from '../store/operators.ts';
import { cookie, readCookie } from './cookies.ts';
import { html } from '../html.ts';
import { CONSOLE, formField, layout, queryString, sendErrorPage, sendPage } from './page.ts';
import { STYLESHEET } from './style.ts';
import { CONSOLE_PAGES } from './pages/index.ts';

const SESSION_COOKIE = 'pc_console';
/** Double-submit token of the sign-in form, before there is a session to hold one. */
const SIGNIN_COOKIE = 'pc_signin';
const FORM_BYTES_MAX = 16 * 1024;

export interface ConsoleDeps {
  ctx: ServiceContext;
  config: Config;
  /** Where the sandbox's pages live, when it is on (links from the console). */
  sandbox: boolean;
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A request from another site's page: its Origin names another host. */
function crossOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

function csrfRefused(): PaycenterError {
  return new PaycenterError('csrf_refused', 'This form has expired or did not come from the console. Reload the page and try again.');
}

function safeNext(next: string | undefined): string {
  return next && next.startsWith(`${CONSOLE}`) && !next.startsWith('//') ? next : CONSOLE;
}

export function consoleRoutes(deps: ConsoleDeps): FastifyPluginAsync {
  const { ctx, config } = deps;
  const secure = config.consoleSecureCookies;
  return async (app: FastifyInstance) => {
    app.decorateRequest('operator', null);
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BYTES_MAX }, (_req, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    app.setErrorHandler((err, req, reply) => {
      if (err instanceof PaycenterError) return sendErrorPage(req, reply, err, req.headers.referer);
      const status = (err as { statusCode?: number }).statusCode;
      if (status && status >= 400 && status < 500) {
        return sendErrorPage(req, reply, new PaycenterError('invalid_request', 'The request could not be read; use the console\'s forms.'));
      }
      req.log.error({ err }, 'console: unexpected error');
      return sendErrorPage(req, reply, new PaycenterError('internal_error', 'Something went wrong on our side; the error is in the log.'));
    });

    app.get(`${CONSOLE}/assets/console.css`, async (_req, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
    );

    app.addHook('onRequest', async (req, reply) => {
      if (req.url.startsWith(`${CONSOLE}/assets/`)) return;
      const token = readCookie(req.headers.cookie, SESSION_COOKIE);
      req.operator = token ? await sessionFor(ctx.pool, token) : null;
      const open = req.url.startsWith(`${CONSOLE}/sign-in`);
      if (!req.operator && !open) {
        return reply.code(303).header('location', `${CONSOLE}/sign-in?next=${encodeURIComponent(req.url)}`).send();
      }
      reply.header('x-frame-options', 'DENY');
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'");
    });
    // Every state-changing request carries the session's CSRF token (a form field or a header);
    // and SameSite=Strict keeps the cookie off other sites' requests besides.
    app.addHook('preHandler', async (req) => {
      if (req.method === 'GET' || req.method === 'HEAD') return;
      if (crossOrigin(req)) throw csrfRefused();
      if (req.url.startsWith(`${CONSOLE}/sign-in`)) {
        const expected = readCookie(req.headers.cookie, SIGNIN_COOKIE);
        if (!expected || !sameToken(formField(req, '_csrf'), expected)) throw csrfRefused();
        return;
      }
      const given = formField(req, '_csrf') || String(req.headers['x-csrf-token'] ?? '');
      if (!req.operator || !sameToken(given, req.operator.csrfToken)) throw csrfRefused();
    });

    const signInPage = (req: FastifyRequest, token: string, error?: string) =>
      layout(req, {
        title: 'Sign in',
        error,
        body: html`<form class="card signin stack" method="post" action="${CONSOLE}/sign-in">
<input type="hidden" name="_csrf" value="${token}"><input type="hidden" name="next" value="${safeNext(queryString(req, 'next') ?? formField(req, 'next'))}">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p>
<p class="muted">The first admin is <code>admin</code>; its password is PAYCENTER_ADMIN_PASSWORD, or the one printed at the first start.</p>
</form>`,
      });

    app.get(`${CONSOLE}/sign-in`, async (req, reply) => {
      if (req.operator) return reply.code(303).header('location', safeNext(queryString(req, 'next'))).send();
      const token = randomBytes(24).toString('base64url');
      reply.header('set-cookie', cookie(SIGNIN_COOKIE, token, { maxAgeS: 3600, secure, path: `${CONSOLE}/sign-in` }));
      return sendPage(reply, signInPage(req, token));
    });

    app.post(`${CONSOLE}/sign-in`, async (req, reply) => {
      try {
        const { token } = await signIn(ctx, formField(req, 'username').trim(), formField(req, 'password'));
        reply.header('set-cookie', cookie(SESSION_COOKIE, token, { maxAgeS: SESSION_TTL_MS / 1000, secure }));
        return reply.code(303).header('location', safeNext(formField(req, 'next'))).send();
      } catch (err) {
        if (!(err instanceof PaycenterError)) throw err;
        return sendPage(reply, signInPage(req, formField(req, '_csrf'), `${err.message} (${err.code})`), err.status);
      }
    });

    app.post(`${CONSOLE}/sign-out`, async (req, reply) => {
      const token = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (token) await signOut(ctx.pool, token);
      reply.header('set-cookie', cookie(SESSION_COOKIE, '', { maxAgeS: 0, secure }));
      return reply.code(303).header('location', `${CONSOLE}/sign-in`).send();
    });

    for (const page of CONSOLE_PAGES) await page(app, deps);
  };
}

export type ConsolePage = (app: FastifyInstance, deps: ConsoleDeps) => void | Promise<void>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in operator's session (console routes only). */
    operator: SessionRow | null;
  }
}
