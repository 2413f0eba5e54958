// The console's page shell and the helpers every page uses: layout with navigation, the CSRF
// field for forms, and answering an action with a redirect (done) or an error page (refused).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, type Html } from '../html.ts';
import { PaycenterError } from '../domain/errors.ts';
import { roleMayPerform, type OperatorAction } from '../domain/operators.ts';

export const CONSOLE = '/console';

const NAV: { href: string; label: string; id: string; adminOnly?: boolean }[] = [
  { href: `${CONSOLE}`, label: 'Dashboard', id: 'dashboard' },
  { href: `${CONSOLE}/orders`, label: 'Orders', id: 'orders' },
  { href: `${CONSOLE}/events`, label: 'Events', id: 'events' },
  { href: `${CONSOLE}/notifications`, label: 'Refused notifications', id: 'notifications' },
  { href: `${CONSOLE}/reconciliations`, label: 'Reconciliations', id: 'reconciliations' },
  { href: `${CONSOLE}/apps`, label: 'Apps', id: 'apps' },
  { href: `${CONSOLE}/operators`, label: 'Operators', id: 'operators' },
  { href: `${CONSOLE}/settings`, label: 'Settings', id: 'settings' },
];

export interface PageOptions {
  title: string;
  /** The NAV id to mark as the current page. */
  current?: string;
  body: Html;
  notice?: string | undefined;
  error?: string | undefined;
}

export function csrfField(req: FastifyRequest): Html {
  return html`<input type="hidden" name="_csrf" value="${req.operator?.csrfToken ?? ''}">`;
}

export function layout(req: FastifyRequest, page: PageOptions): Html {
  const op = req.operator;
  const notice = page.notice ?? queryString(req, 'notice');
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · Paycenter console</title><link rel="stylesheet" href="${CONSOLE}/assets/console.css"></head>
<body><a class="skip" href="#main">Skip to content</a>
<header class="top"><span class="brand">Paycenter</span>
${op
  ? html`<nav aria-label="Console">${NAV.map(
      (n) => html`<a href="${n.href}"${page.current === n.id ? html` aria-current="page"` : ''}>${n.label}</a>`,
    )}</nav>
<div class="who"><span>${op.username} (${op.role})</span>
<form class="inline" method="post" action="${CONSOLE}/sign-out">${csrfField(req)}<button class="secondary" type="submit">Sign out</button></form></div>`
  : ''}
</header>
<main id="main" tabindex="-1">
${notice ? html`<div class="notice ok" role="status">${notice}</div>` : ''}
${page.error ? html`<div class="notice error" role="alert">${page.error}</div>` : ''}
<h1>${page.title}</h1>
${page.body}
</main></body></html>`;
}

export function sendPage(reply: FastifyReply, page: Html, status = 200): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page.value);
}

export function queryString(req: FastifyRequest, name: string): string | undefined {
  const value = (req.query as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A form field as a string ('' when absent). */
export function formField(req: FastifyRequest, name: string): string {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

export function mayPerform(req: FastifyRequest, action: OperatorAction): boolean {
  return req.operator !== null && roleMayPerform(req.operator.role, action);
}

/** After an action: back to `to` with a notice (POST → redirect → GET, so a reload repeats nothing). */
export function redirectWithNotice(reply: FastifyReply, to: string, notice: string): FastifyReply {
  const sep = to.includes('?') ? '&' : '?';
  return reply.code(303).header('location', `${to}${sep}notice=${encodeURIComponent(notice)}`).send();
}

/** A refused action or bad input: its status, stable code and message, and the way back. */
export function sendErrorPage(req: FastifyRequest, reply: FastifyReply, err: PaycenterError, back?: string): FastifyReply {
  const body = html`<p class="mono">error: ${err.code}</p>${back ? html`<p><a href="${back}">Back</a></p>` : ''}`;
  return sendPage(reply, layout(req, { title: 'Not done', body, error: err.message }), err.status);
}
