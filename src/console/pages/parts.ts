// Pieces the console's list and action pages share: keyset pages, the "why" field every action
// carries, and the card that shows a new secret once.
import type { FastifyRequest } from 'fastify';
import { html, type Html } from '../../html.ts';
import { CONSOLE, queryString } from '../page.ts';
import { NOTE_LENGTH_MAX } from '../../domain/operators.ts';
import { PaycenterError } from '../../domain/errors.ts';

/** Rows per list page. */
export const PAGE_SIZE = 50;

/** The rows to show and whether another page follows (the list was asked for one row more). */
export function pageOf<T>(rows: T[]): { rows: T[]; more: boolean } {
  return { rows: rows.slice(0, PAGE_SIZE), more: rows.length > PAGE_SIZE };
}

/** A numeric cursor from the address bar: digits, or refused. */
export function cursorNumber(req: FastifyRequest, name: string): number | null {
  const text = queryString(req, name);
  if (text === undefined) return null;
  if (!/^\d{1,18}$/.test(text)) throw new PaycenterError('invalid_request', `${name}: use the page links.`, { field: name });
  return Number(text);
}

/**
 * Links to the first page and to the next one: the current filters (empty ones dropped), with
 * the cursor of the next page when there is one. Lists are newest first unless `labels` say otherwise.
 */
export function pager(
  path: string,
  filters: Record<string, string | undefined>,
  cursor: { name: string; next: string | null; current: string | undefined },
  labels = { first: 'Newest', next: 'Older' },
): Html {
  const link = (extra: Record<string, string>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...filters, ...extra })) if (v) params.set(k, v);
    const qs = params.toString();
    return qs ? `${path}?${qs}` : path;
  };
  if (!cursor.current && !cursor.next) return html``;
  return html`<nav class="pager" aria-label="Pages">
${cursor.current ? html`<a href="${link({})}">${labels.first}</a>` : ''}
${cursor.next ? html`<a href="${link({ [cursor.name]: cursor.next })}">${labels.next}</a>` : ''}
</nav>`;
}

/** The mandatory note of an action; `id` must be unique on the page. */
export function noteField(id: string): Html {
  return html`<label for="${id}">Why (recorded with the action)</label>
<textarea id="${id}" name="note" required maxlength="${NOTE_LENGTH_MAX}"></textarea>`;
}

/** A secret just made: shown in this answer only, never again. */
export function shownOnce(what: string, value: string, explanation: Html | string): Html {
  return html`<section class="card once" aria-labelledby="once-title">
<h2 id="once-title">Copy the ${what} now: it will not be shown again</h2>
<p><code class="secret">${value}</code></p>
<p>${explanation}</p>
</section>`;
}

export function badge(state: string): Html {
  return html`<span class="badge ${state}">${state}</span>`;
}

export function orderLink(orderId: string): Html {
  return html`<a class="mono" href="${CONSOLE}/orders/${encodeURIComponent(orderId)}">${orderId}</a>`;
}
