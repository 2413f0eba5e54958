// Merchant apps and their webhook endpoints. Admins create apps, rotate API keys and add or
// remove endpoints; a new key or signing secret is shown once, in the answer to the form, and
// never put in a URL (it would stay in the browser's history and in access logs).
import type { FastifyRequest } from 'fastify';
import type { ConsolePage } from '../index.ts';
import { html, formatTime, type Html } from '../../html.ts';
import { CONSOLE, csrfField, formField, layout, mayPerform, queryString, redirectWithNotice, sendPage } from '../page.ts';
import { EVENT_TYPES, type EventType } from '../../domain/events.ts';
import { maskUrl } from '../../domain/settings-view.ts';
import { findApp, listApps, listEndpointsOfApps, type ConsoleAppRow, type ConsoleEndpointRow } from '../../store/console-lists.ts';
import { addAppWebhookEndpoint, APP_NAME_LENGTH_MAX, createApp, rotateApiKey, type NewApiKey } from '../../services/apps.ts';
import { PaycenterError } from '../../domain/errors.ts';
import { deleteWebhookEndpoint } from '../../services/webhook-endpoints.ts';
import { performOperatorAction } from '../../services/operators.ts';
import { badge, noteField, pageOf, PAGE_SIZE, pager, shownOnce } from './parts.ts';

const APPS = `${CONSOLE}/apps`;

function appPath(id: string): string {
  return `${APPS}/${encodeURIComponent(id)}`;
}

/** A process that checked the old key in the last 30 s still accepts it until its cache entry ends (api/auth.ts). */
const KEY_CACHE_NOTE = 'The old key is refused from now on; a Paycenter process that checked it in the last 30 seconds accepts it until its cache expires (30 s at most).';

function endpointRow(req: FastifyRequest, app: ConsoleAppRow, e: ConsoleEndpointRow, n: string): Html {
  return html`<tr><td class="mono">${e.url}</td><td>${e.eventTypes ? e.eventTypes.join(', ') : html`<span class="muted">every type</span>`}</td>
<td>${e.disabledAt ? html`${badge('bad')} disabled ${formatTime(e.disabledAt)}: ${e.disabledReason ?? ''}` : badge('ok')}${e.fromConfig ? html`<br><span class="muted">from PAYCENTER_WEBHOOK_URL</span>` : ''}</td>
<td>${formatTime(e.createdAt)}</td>
${mayPerform(req, 'remove_webhook_endpoint')
  ? html`<td><details><summary>Remove…</summary><form class="stack" method="post" action="${appPath(app.id)}/webhook-endpoints/${encodeURIComponent(e.id)}/remove">${csrfField(req)}
${noteField(`remove-note-${n}`)}
<p><button class="danger" type="submit">Remove endpoint <span class="visually-hidden">${e.url}</span></button></p></form></details></td>`
  : ''}</tr>`;
}

function appSection(req: FastifyRequest, app: ConsoleAppRow, endpoints: ConsoleEndpointRow[], n: number, apiKeyFromConfig: boolean): Html {
  const admin = mayPerform(req, 'rotate_api_key');
  return html`<section class="card" aria-labelledby="app-${n}">
<h2 id="app-${n}">${app.name}${app.isDefault ? html` <span class="badge">default</span>` : ''}</h2>
<dl class="facts"><dt>App id</dt><dd class="mono">${app.id}</dd><dt>Created</dt><dd>${formatTime(app.createdAt)}</dd><dt>API key</dt><dd>set (only its SHA-256 is stored)</dd></dl>
<h3>Webhook endpoints</h3>
${endpoints.length === 0
  ? html`<p class="muted">None: this app's events are only in the event feed${app.isDefault ? ' and on the configured brokers' : ''}.</p>`
  : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">URL</th><th scope="col">Event types</th><th scope="col">State</th><th scope="col">Added</th>${admin ? html`<th scope="col">Remove</th>` : ''}</tr></thead>
<tbody>${endpoints.map((e, i) => endpointRow(req, app, e, `${n}-${i}`))}</tbody></table></div>`}
${admin
  ? html`<div class="actions">
<form class="stack" method="post" action="${appPath(app.id)}/webhook-endpoints">${csrfField(req)}<details><summary>Add a webhook endpoint</summary>
<label for="url-${n}">URL</label><input class="wide" id="url-${n}" name="url" type="url" required placeholder="https://shop.example/paycenter-webhooks">
<fieldset><legend>Event types (none checked: every type)</legend>
${Object.keys(EVENT_TYPES).map((t) => html`<label class="check"><input type="checkbox" name="event.${t}"> ${t}</label>`)}
</fieldset>
${noteField(`add-note-${n}`)}
<p><button type="submit">Add endpoint <span class="visually-hidden">to ${app.name}</span></button></p>
</details></form>
<form class="stack" method="post" action="${appPath(app.id)}/rotate-key">${csrfField(req)}<details><summary>Rotate the API key</summary>
<p class="muted">A new key is shown once. ${KEY_CACHE_NOTE}</p>
${app.isDefault && apiKeyFromConfig
  ? html`<p class="notice error">This app's key is set from PAYCENTER_API_KEY at every start: change that setting too, or the next restart brings the old key back.</p>`
  : ''}
${noteField(`rotate-note-${n}`)}
<p><button class="danger" type="submit">Rotate API key <span class="visually-hidden">of ${app.name}</span></button></p>
</details></form>
</div>`
  : ''}
</section>`;
}

/** The answer to a form that made a secret: the secret once, and the way back. */
function secretPage(req: FastifyRequest, title: string, facts: Html, secret: Html): Html {
  return layout(req, {
    title,
    current: 'apps',
    body: html`${secret}<dl class="facts card">${facts}</dl><p><a href="${APPS}">Back to apps</a></p>`,
  });
}

/** The event types checked on the form; undefined (every type) when none is. */
function checkedEventTypes(req: FastifyRequest): EventType[] | undefined {
  const checked = (Object.keys(EVENT_TYPES) as EventType[]).filter((t) => formField(req, `event.${t}`) !== '');
  return checked.length === 0 ? undefined : checked;
}

/** A new API key's page: the key once, with `explanation`. */
function apiKeyPage(req: FastifyRequest, title: string, made: NewApiKey, explanation: string): Html {
  return secretPage(req, title, html`<dt>App id</dt><dd class="mono">${made.appId}</dd>`, shownOnce('API key', made.apiKey, `Only its SHA-256 is stored. ${explanation}`));
}

export const appsPage: ConsolePage = (app, { ctx, config }) => {
  const apiKeyFromConfig = config.apiKey !== undefined;

  app.get(APPS, async (req, reply) => {
    const after = queryString(req, 'after');
    // An unknown cursor would silently show an empty page.
    if (after !== undefined && !(await findApp(ctx.pool, after))) {
      throw new PaycenterError('invalid_request', 'after: use the page links.', { field: 'after' });
    }
    const { rows, more } = pageOf(await listApps(ctx.pool, after ?? null, PAGE_SIZE + 1));
    const endpoints = await listEndpointsOfApps(
      ctx.pool,
      rows.map((a) => a.id),
    );
    const body = html`<p class="muted">Each app calls the merchant API with its own key and sees only its own orders and events.</p>
${mayPerform(req, 'create_app')
  ? html`<details class="card"><summary>Create an app</summary>
<form class="stack" method="post" action="${APPS}">${csrfField(req)}
<label for="app-name">Name</label><input id="app-name" name="name" required maxlength="${APP_NAME_LENGTH_MAX}">
${noteField('create-note')}
<p><button type="submit">Create app</button></p>
</form></details>`
  : ''}
${rows.map((a, n) =>
  appSection(
    req,
    a,
    endpoints.filter((e) => e.appId === a.id),
    n,
    apiKeyFromConfig,
  ),
)}
${pager(APPS, {}, { name: 'after', current: after, next: more ? rows.at(-1)!.id : null }, { first: 'First', next: 'Next' })}`;
    return sendPage(reply, layout(req, { title: 'Apps', current: 'apps', body }));
  });

  app.post(APPS, async (req, reply) => {
    const name = formField(req, 'name');
    const made = await performOperatorAction(ctx, req.operator!, 'create_app', { target: name.trim(), note: formField(req, 'note') }, () => createApp(ctx, name));
    return sendPage(
      reply,
      apiKeyPage(req, `App ${made.name} created`, made, 'Give it to the service that calls the API as `Authorization: Bearer <key>`; if it is lost, rotate it.'),
      201,
    );
  });

  app.post<{ Params: { id: string } }>(`${APPS}/:id/rotate-key`, async (req, reply) => {
    const rotated = await performOperatorAction(ctx, req.operator!, 'rotate_api_key', { target: req.params.id, note: formField(req, 'note') }, () =>
      rotateApiKey(ctx, req.params.id),
    );
    return sendPage(reply, apiKeyPage(req, `New API key for ${rotated.name}`, rotated, KEY_CACHE_NOTE));
  });

  app.post<{ Params: { id: string } }>(`${APPS}/:id/webhook-endpoints`, async (req, reply) => {
    // The action is recorded before the URL is checked: a password in it (refused then) is masked in the record.
    const url = formField(req, 'url').trim();
    const events = checkedEventTypes(req);
    const endpoint = await performOperatorAction(ctx, req.operator!, 'add_webhook_endpoint', { target: `${req.params.id} ${maskUrl(url)}`, note: formField(req, 'note') }, () =>
      addAppWebhookEndpoint(ctx, req.params.id, { url, ...(events && { events }) }),
    );
    return sendPage(
      reply,
      secretPage(
        req,
        'Webhook endpoint added',
        html`<dt>Endpoint id</dt><dd class="mono">${endpoint.id}</dd><dt>URL</dt><dd class="mono">${endpoint.url}</dd>
<dt>Event types</dt><dd>${endpoint.events ? endpoint.events.join(', ') : 'every type'}</dd>`,
        shownOnce(
          'webhook secret',
          endpoint.secret,
          'The receiver verifies the webhook-signature header of every delivery with it (Standard Webhooks). Events committed from now on are sent to this endpoint.',
        ),
      ),
      201,
    );
  });

  app.post<{ Params: { id: string; endpointId: string } }>(`${APPS}/:id/webhook-endpoints/:endpointId/remove`, async (req, reply) => {
    const { id, endpointId } = req.params;
    await performOperatorAction(ctx, req.operator!, 'remove_webhook_endpoint', { target: endpointId, note: formField(req, 'note') }, () =>
      deleteWebhookEndpoint(ctx, id, endpointId),
    );
    return redirectWithNotice(reply, APPS, `Webhook endpoint ${endpointId} removed; its pending deliveries stopped.`);
  });
};
