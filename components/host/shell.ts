/**
 * POSIX sh quoting for the scripts the backends build (the takeover, the
 * gates, the weights prefetch, the network command). Pure.
 */

/** One word for sh, whatever it holds: single quotes, each ' written as '\''. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
