// Bills that name their columns in a header line (WeChat's tradebill, Alipay's detail CSV) are read
// by those names, since the channels say the column order can change.

/**
 * Where each of `columns` (key → header name) stands in `header`; or why not, when a name is
 * missing or appears twice (which of the two holds the value cannot be known).
 */
export function columnIndex<C extends string>(header: readonly string[], columns: Readonly<Record<C, string>>): Record<C, number> | string {
  const index = {} as Record<C, number>;
  for (const [column, name] of Object.entries(columns) as Array<[C, string]>) {
    const at = header.indexOf(name);
    if (at < 0 || header.indexOf(name, at + 1) >= 0) return `header must name ${name} once`;
    index[column] = at;
  }
  return index;
}
