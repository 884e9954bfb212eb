/** Quotes a path for the fix texts, which users paste into a shell. */
export function shq(path: string): string {
  return /^[\w./@%+=:,-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}
