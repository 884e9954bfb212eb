import { sep } from 'node:path';

/** Whether some directory of `set` lies above `p` (`p` itself not counted). */
export function hasAncestorIn(p: string, set: ReadonlySet<string>): boolean {
  if (set.size === 0) return false;
  for (let i = p.lastIndexOf(sep); i > 0; i = p.lastIndexOf(sep, i - 1)) {
    if (set.has(p.slice(0, i))) return true;
  }
  return false;
}

/** Drops directories that lie inside another one of the list: looking at the outer one covers them. */
export function outermost(dirs: Iterable<string>): string[] {
  const set = new Set(dirs);
  return [...set].filter((d) => !hasAncestorIn(d, set));
}
