// The API reference page at /docs, rendered on the server from the same OpenAPI document that
// /openapi.json serves: no external assets, works offline.
import { ERROR_STATUS } from '../domain/errors.ts';
import { EVENT_TYPES } from '../domain/events.ts';

type Json = Record<string, unknown>;

const escapeHtml = (s: unknown) =>
  String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Inline `code` in descriptions. */
const prose = (s: unknown) => escapeHtml(s).replace(/`([^`]+)`/g, '<code>$1</code>');

function typeOf(schema: Json): string {
  if (schema.$ref) return String(schema.$ref).split('/').pop()!;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const union = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (union) return union.map(typeOf).join(' | ');
  if (schema.type === 'array') return `${typeOf((schema.items ?? {}) as Json)}[]`;
  return String(schema.type ?? 'any');
}

function fieldsTable(schema: Json | undefined): string {
  const props = (schema?.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema?.required ?? []) as string[]);
  const rows = Object.entries(props)
    .map(
      ([name, s]) =>
        `<tr><td><code>${escapeHtml(name)}</code>${required.has(name) ? '' : ' <small>optional</small>'}</td>` +
        `<td>${escapeHtml(typeOf(s))}</td><td>${prose(s.description)}</td></tr>`,
    )
    .join('');
  return rows ? `<table><tr><th>field</th><th>type</th><th>meaning</th></tr>${rows}</table>` : '';
}

export function renderDocs(openapi: Json): string {
  const paths = (openapi.paths ?? {}) as Record<string, Record<string, Json>>;
  const ops = Object.entries(paths)
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => {
        const params = ((op.parameters ?? []) as Json[])
          .map((p) => `<tr><td><code>${escapeHtml(p.name)}</code> <small>${escapeHtml(p.in)}</small></td>` +
            `<td>${escapeHtml(typeOf((p.schema ?? {}) as Json))}</td><td>${prose(p.description ?? (p.schema as Json)?.description)}</td></tr>`)
          .join('');
        const body = ((op.requestBody as Json)?.content as Json)?.['application/json'] as Json | undefined;
        const responses = Object.keys((op.responses ?? {}) as Json).join(', ');
        return `<section><h3><span class="m">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
          <p><b>${prose(op.summary)}</b></p><p>${prose(op.description)}</p>
          ${params ? `<table><tr><th>parameter</th><th>type</th><th>meaning</th></tr>${params}</table>` : ''}
          ${body ? `<h4>Body</h4>${fieldsTable(body.schema as Json)}` : ''}
          <p><small>Answers: ${escapeHtml(responses)}</small></p></section>`;
      }),
    )
    .join('');
  const errorRows = Object.entries(ERROR_STATUS)
    .map(([code, status]) => `<tr><td><code>${code}</code></td><td>${status}</td></tr>`)
    .join('');
  const eventRows = Object.entries(EVENT_TYPES)
    .map(([type, meaning]) => `<tr><td><code>${type}</code></td><td>${prose(meaning)}</td></tr>`)
    .join('');
  const info = (openapi.info ?? {}) as Json;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(info.title)} API reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
code{background:#f3f3f3;padding:0 3px}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
section{border-top:1px solid #eee;margin-top:1.5em}.m{background:#234;color:#fff;padding:1px 6px;border-radius:3px;font-size:13px}</style></head>
<body><h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1><p>${prose(info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Every error is <code>{"error": {"code", "message", …}}</code>.</p>
<h2>Operations</h2>${ops}
<h2>Error codes</h2><table><tr><th>code</th><th>HTTP status</th></tr>${errorRows}</table>
<h2>Events</h2><table><tr><th>type</th><th>meaning</th></tr>${eventRows}</table></body></html>`;
}
