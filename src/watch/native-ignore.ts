import { basename } from 'node:path';
import { loadPicomatch } from './cjs-packages.js';

/** A glob that only names entries at any depth: `**\/name` or `**\/{a,b,c}`. */
const NAMES_GLOB = /^\*\*\/(?:\{([^*?[\]{}!/\\]+)\}|([^*?[\]{}!/,\\]+))$/;

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Builds @parcel/watcher's ignore list from the filter's globs.
 *
 * Parcel matches every path against every pattern with std::regex; picomatch's general form of
 * `**\/{node_modules,...}` made its scan of a 50,000-file tree twice as slow (0.2 s more), so
 * name-only globs become one plain regex. Parcel cannot tell a file from a directory, so the
 * files that count but carry such a name (a script called `build`) are exempted by relative path,
 * as are the file roots (`keepNames`).
 */
export class NativeIgnore {
  private readonly names: string[] = [];
  private readonly rest: string[] = [];
  private readonly nameSet: ReadonlySet<string>;
  private readonly restMatch: (rel: string) => boolean;

  constructor(globs: readonly string[], keepNames: readonly string[] = []) {
    for (const g of globs) {
      const m = NAMES_GLOB.exec(g);
      if (m) this.names.push(...(m[1] ?? m[2] ?? '').split(',').filter((n) => n !== ''));
      // A general glob that would hide a file root is left to the filter instead.
      else if (!keepNames.some((n) => loadPicomatch()(g, { dot: true })(n))) this.rest.push(g);
    }
    this.nameSet = new Set(this.names);
    this.restMatch = this.rest.length > 0 ? loadPicomatch()(this.rest, { dot: true }) : () => false;
  }

  /** True when the patterns already leave out this path (relative to the target directory). */
  covers(rel: string): boolean {
    return this.nameSet.has(basename(rel)) || this.restMatch(rel);
  }

  /** True when a counted file of this name must be exempted from the name regex. */
  clashes(name: string): boolean {
    return this.nameSet.has(name);
  }

  /** Patterns for one subscription; `keep` are paths relative to its directory. */
  patterns(keep: readonly string[], generalGlobs = true): (string | RegExp)[] {
    const out: (string | RegExp)[] = generalGlobs ? [...this.rest] : this.rest.filter((g) => g.startsWith('**/'));
    if (this.names.length === 0) return out;
    const exempt = keep.length > 0 ? `(?!(?:${keep.map(esc).join('|')})$)` : '';
    // Lazy: std::regex then tries the names from the first slash on instead of backtracking from
    // the end of every path (about 40 ms less on a 100,000-file scan).
    out.unshift(new RegExp(`^${exempt}(?:.*?/)?(?:${this.names.map(esc).join('|')})$`));
    return out;
  }
}
