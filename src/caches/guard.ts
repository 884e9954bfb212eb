import { lstatSync, readdirSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { UsageError } from '../core/errors.js';
import { createFilter } from '../watch/filter.js';
import type { PathFilter } from '../watch/types.js';
import { findCandidates } from './find.js';

export interface SourceGuardOptions {
  roots: string[];
  globs: string[];
  /** The worker's own ignores and extensions, without the clear globs (which the watcher also ignores). */
  ignore?: string[];
  ext?: string[];
  /** When the deletion would happen, for the message: every start of a worker, or a `clean` run now. */
  when?: 'every start' | 'now';
}

/**
 * Without --ext, a counted file is taken for a source when its extension is a programming or
 * configuration language's: a cache the project does not ignore (`tmp/cache/**`, say) holds
 * other things, and its glob is not refused.
 */
const SOURCE_EXTS = new Set(
  ('py pyi pyx js mjs cjs jsx ts mts cts tsx vue svelte astro json jsonc go rs rb java kt kts scala c h cc cpp cxx hpp cs fs php swift m mm ' +
    'sh bash zsh fish ps1 html htm css scss sass less md mdx rst toml yaml yml ini cfg sql graphql proto ex exs erl hs ml lua pl r dart zig nim tf')
    .split(' '),
);

/** How many matched sources an error names. */
const NAMED = 3;

/**
 * A clear glob that matches files the watcher would otherwise count as sources deletes the
 * project before every start (`--clear '*'` did). Each glob is tried as the clear step would try
 * it, and what it finds is compared with the watch filter as it would be without the clear globs
 * (ignores, extensions, .gitignore; see SOURCE_EXTS): the first glob that matches a source file is
 * refused, with the files it named, unless `allowed`.
 */
export async function refuseClearOfSources(opts: SourceGuardOptions, allowed: boolean, flag: string): Promise<void> {
  if (allowed || opts.globs.length === 0) return;
  const base = createFilter({ roots: opts.roots, ignore: opts.ignore ?? [], ext: opts.ext ?? [], gitignore: true });
  const byExt = (opts.ext ?? []).length === 0;
  const filter = {
    skipDir: (p: string) => base.skipDir(p),
    includeFile: (p: string) => base.includeFile(p) && (!byExt || SOURCE_EXTS.has(extname(p).slice(1).toLowerCase())),
  };
  for (const glob of opts.globs) {
    const found = await findCandidates(opts.roots, [], [glob], []);
    const sources: string[] = [];
    for (const c of found) {
      sourcesUnder(c.display, filter, sources);
      if (sources.length >= NAMED) break;
    }
    if (sources.length > 0) {
      throw new UsageError(
        `clear glob "${glob}" matches source files (${sources.slice(0, NAMED).join(', ')}${sources.length > NAMED ? ', …' : ''}), ${opts.when === 'now' ? 'which this clean would delete' : 'which would be deleted before every start'}; ` +
          `narrow it, or pass ${flag} if that is really wanted`,
      );
    }
  }
}

/** Files at or under `path` (symlinks not followed) that the watcher counts, up to NAMED of them. */
function sourcesUnder(path: string, filter: Pick<PathFilter, 'skipDir' | 'includeFile'>, out: string[]): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isFile()) {
    if (filter.includeFile(path)) out.push(relative(process.cwd(), path) || path);
    return;
  }
  if (!st.isDirectory() || filter.skipDir(path)) return;
  let names: string[];
  try {
    names = readdirSync(path);
  } catch {
    return;
  }
  for (const n of names) {
    if (out.length >= NAMED) return;
    sourcesUnder(join(path, n), filter, out);
  }
}
