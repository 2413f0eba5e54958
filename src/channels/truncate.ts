// The channels count a text field's limit in characters, meaning Unicode code points: a cut by
// UTF-16 units could split a surrogate pair and send a broken character.

/** Cuts `text` to `maxChars` code points. */
export function truncateChars(text: string, maxChars: number): string {
  // Fast path: fewer UTF-16 units than the limit means fewer code points too.
  if (text.length <= maxChars) return text;
  const codePoints = Array.from(text);
  return codePoints.length <= maxChars ? text : codePoints.slice(0, maxChars).join('');
}
