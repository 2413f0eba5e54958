// HTML for the console, the demo and the sandbox's pages: a tagged template that escapes every
// value unless it is already Html, so no page can be written with an injection in it.

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** Trusted markup made by our own code (an SVG we drew, a script we wrote). */
export function raw(markup: string): Html {
  return new Html(markup);
}

/** Minor units as yuan for display: 1999 → "19.99". */
export function formatMinor(minor: number | string, currency = 'CNY'): string {
  const n = BigInt(minor);
  const sign = n < 0n ? '-' : '';
  const abs = n < 0n ? -n : n;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')} ${currency}`;
}

/** A timestamp as operators read it: UTC, to the second. */
export function formatTime(at: Date | string | null | undefined): string {
  if (!at) return '';
  const d = typeof at === 'string' ? new Date(at) : at;
  return d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}
