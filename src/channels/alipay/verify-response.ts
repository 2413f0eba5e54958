// Verification of Alipay's synchronous answers (channels.md §2.3). The signed content is the raw
// text of the `<method>_response` value exactly as received: it is cut out of the body by a scan
// that honours strings and escapes, and is never re-serialized (JSON.stringify would change
// spacing, key order and `\u` escapes, and the signature with them).
import type { KeyObject } from 'node:crypto';
import { verifyContent } from './sign.ts';

export type ResponseRefusal =
  /** The body is not a JSON object. */
  | 'not_json'
  /** A gateway-level error answer, which carries nothing we may act on. */
  | 'error_response'
  | 'missing_node'
  /** The response node appears twice: which one was signed cannot be known. */
  | 'duplicate_node'
  | 'missing_sign'
  | 'bad_signature';

export type ResponseVerification =
  | { ok: true; node: Record<string, unknown> }
  | { ok: false; reason: ResponseRefusal };

interface Member {
  key: string;
  /** The value's text exactly as it appears in the body. */
  raw: string;
}

/** `alipay.trade.query` → `alipay_trade_query_response`. */
export function responseNodeName(method: string): string {
  return `${method.replace(/\./g, '_')}_response`;
}

export function verifyAlipayResponse(body: string, method: string, alipayPublicKey: KeyObject): ResponseVerification {
  const read = readTopLevel(body);
  if (!read) return { ok: false, reason: 'not_json' };
  const { object, members } = read;
  const named = (key: string) => members.filter((m) => m.key === key);
  if (named('error_response').length > 0) return { ok: false, reason: 'error_response' };
  const nodeName = responseNodeName(method);
  const nodes = named(nodeName);
  if (nodes.length === 0) return { ok: false, reason: 'missing_node' };
  if (nodes.length > 1) return { ok: false, reason: 'duplicate_node' };
  const signs = named('sign');
  if (signs.length !== 1) return { ok: false, reason: 'missing_sign' };
  // The node and sign each appear once (checked above), so the parsed object holds their values.
  const signature = object.sign;
  if (typeof signature !== 'string' || signature === '') return { ok: false, reason: 'missing_sign' };
  const content = nodes[0]!.raw;
  if (!content.startsWith('{')) return { ok: false, reason: 'missing_node' };
  if (!verifyContent(alipayPublicKey, content, signature)) return { ok: false, reason: 'bad_signature' };
  return { ok: true, node: object[nodeName] as Record<string, unknown> };
}

/**
 * The members of the top-level object in order, duplicates kept (JSON.parse would silently keep
 * the last one). Undefined when the body is not a JSON object. The body is validated by JSON.parse
 * first, so the scan below only has to find where each value ends.
 */
export function topLevelMembers(body: string): Member[] | undefined {
  return readTopLevel(body)?.members;
}

/** The body parsed once, and its members as raw text. */
function readTopLevel(body: string): { object: Record<string, unknown>; members: Member[] } | undefined {
  let object: unknown;
  try {
    object = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return undefined;
  const members: Member[] = [];
  let i = skipSpace(body, body.indexOf('{') + 1);
  while (body[i] !== '}') {
    const keyEnd = endOfString(body, i);
    const key = JSON.parse(body.slice(i, keyEnd)) as string;
    const valueStart = skipSpace(body, skipSpace(body, keyEnd) + 1); // past the ':'
    const valueEnd = endOfValue(body, valueStart);
    members.push({ key, raw: body.slice(valueStart, valueEnd) });
    i = skipSpace(body, valueEnd);
    if (body[i] === ',') i = skipSpace(body, i + 1);
  }
  return { object: object as Record<string, unknown>, members };
}

const JSON_SPACE = new Set([' ', '\t', '\n', '\r']);

function skipSpace(text: string, i: number): number {
  while (i < text.length && JSON_SPACE.has(text[i]!)) i++;
  return i;
}

/** `i` is at an opening quote; returns the index just past the closing one. `\"` does not close. */
function endOfString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}

/**
 * Returns the index just past the value starting at `i`. Braces and brackets are counted outside
 * strings only, so `"}"` or `"\"}"` inside a value never ends it.
 */
function endOfValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return endOfString(text, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (c === '"') {
        j = endOfString(text, j) - 1;
      } else if (c === '{' || c === '[') {
        depth++;
      } else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  // A number, true, false or null: it ends where the member does.
  let j = i;
  while (j < text.length && !JSON_SPACE.has(text[j]!) && text[j] !== ',' && text[j] !== '}') j++;
  return j;
}
