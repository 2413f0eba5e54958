// UnionPay's two body formats (channels.md §3.1): synchronous answers are UN-encoded `k=v&…` whose
// values may hold `{…}` / `[…]` with `&` and `=` inside; requests and backUrl notifications are
// ordinary URL-encoded forms, read by parseFormFields (../notification.ts). Both readers refuse a
// repeated key: which value was signed is unclear.
import type { Fields } from './sign.ts';

const CLOSER_OF: Readonly<Record<string, string>> = { '{': '}', '[': ']' };

/**
 * ACP's parseQString, nesting-aware: an `&` inside an open `{…}` or `[…]` belongs to the value.
 * Unlike ACP (which waits for the first closer of the outermost kind) brackets are counted with a
 * stack, so `{a={b=1}&c=2}` stays one value; a closer that does not match the innermost open
 * bracket is an ordinary character. A segment without `=` is a key with an empty value (as ACP).
 * Undefined for an empty key or a repeated key.
 */
export function parseResponseFields(text: string): Map<string, string> | undefined {
  const fields = new Map<string, string>();
  let key: string | undefined;
  let start = 0;
  const open: string[] = [];
  const put = (end: number): boolean => {
    const k = key ?? text.slice(start, end);
    const v = key === undefined ? '' : text.slice(start, end);
    if (k === '' || fields.has(k)) return false;
    fields.set(k, v);
    return true;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (key === undefined) {
      if (c === '=') {
        key = text.slice(start, i);
        start = i + 1;
      } else if (c === '&') {
        if (!put(i)) return undefined;
        start = i + 1;
      }
      continue;
    }
    const closer = CLOSER_OF[c];
    if (closer !== undefined) open.push(closer);
    else if (open.length > 0 && c === open[open.length - 1]) open.pop();
    else if (c === '&' && open.length === 0) {
      if (!put(i)) return undefined;
      key = undefined;
      start = i + 1;
    }
  }
  if (text.length > 0 && !put(text.length)) return undefined;
  return fields;
}

export function encodeForm(fields: Fields): string {
  return new URLSearchParams([...fields]).toString();
}
