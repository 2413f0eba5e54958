// An answer about another trade or refund says nothing about ours. Alipay may leave the naming
// fields out of an answer; one that is absent is taken to be about what we asked for.
import { REASON_BODY_CHARS, type Classified } from './classify.ts';

/** The first of `expected`'s fields that the answer names differently, or undefined when none does. */
export function misnamedField(answer: Classified, expected: Readonly<Record<string, string>>): string | undefined {
  return Object.keys(expected).find((field) => {
    const named = answer.node?.[field];
    return named !== undefined && named !== expected[field];
  });
}

export function wrongSubject(answer: Classified, field: string): { kind: 'unknown'; reason: string } {
  const named = JSON.stringify(answer.node?.[field] ?? null).slice(0, REASON_BODY_CHARS);
  return { kind: 'unknown', reason: `wrong_${field === 'out_request_no' ? 'refund' : 'trade'}: answer names ${field} ${named}; ${answer.reason}` };
}
