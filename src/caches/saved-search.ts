import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readFirstLine } from '../core/first-line.js';
import { stateSubdirSync, writeFileAtomicSync } from '../state/files.js';
import { INDEX_DIR } from '../watch/index-file.js';
import type { SearchMemo } from './find.js';
import type { PresetName } from './presets.js';

const VERSION = 1;
/**
 * The memo is written again once this many directories were read again since it was last written,
 * or when the number of caches found changed. Fewer cost the next run a few reads, less than a
 * write of the whole memo after every search would.
 */
const WRITE_WORTH = 16;

type Entry = SearchMemo extends Map<string, infer V> ? V : never;

/** Counts the directories a search changed in it since it was last saved. */
class TrackedMemo extends Map<string, Entry> {
  changes = 0;

  override set(dir: string, entry: Entry): this {
    this.changes++;
    return super.set(dir, entry);
  }

  override delete(dir: string): boolean {
    const had = super.delete(dir);
    if (had) this.changes++;
    return had;
  }
}

/** Where the memo of a search for these caches under these roots is kept in a state directory. */
export function searchMemoPath(stateDir: string, roots: readonly string[], presets: readonly PresetName[], globs: readonly string[]): string {
  const key = createHash('sha1').update(JSON.stringify([roots, presets, globs])).digest('hex').slice(0, 16);
  return join(stateDir, INDEX_DIR, `${key}.caches`);
}

/**
 * The cache search's memo (see SearchMemo), kept in the state directory between runs like the file
 * index: a directory's ctime means the same thing to the next run, so the search before a first
 * start stats the directories instead of reading them. A missing or damaged file only costs the
 * reads it would have saved.
 */
export class SavedSearch {
  private loaded: TrackedMemo | undefined;
  private pending: NodeJS.Immediate | undefined;
  /** How many caches the latest search found; from the saved memo until this run searches. */
  private found: number | undefined;

  constructor(private readonly file: string | undefined) {}

  /** The memo, read from the state directory the first time. */
  get memo(): SearchMemo {
    if (!this.loaded) {
      const saved = this.file ? readMemo(this.file) : undefined;
      this.found ??= saved?.found;
      this.loaded = new TrackedMemo(saved?.dirs ?? []);
      this.loaded.changes = 0;
    }
    return this.loaded;
  }

  /**
   * True when the latest search, possibly the previous run's, found nothing to clear: a start that
   * does not wait for the search is then unlikely to be undone by it. Only the saved file's first
   * line is read for this: the memo itself is parsed when a search needs it.
   */
  get lastFoundNothing(): boolean {
    if (this.found === undefined && !this.loaded && this.file) this.found = readFound(this.file);
    return this.found === 0;
  }

  /** What a search with this memo found; the memo is written a little later if that is worth it. */
  searched(found: number): void {
    const memo = this.loaded;
    const file = this.file;
    const worth = found !== this.found || (memo !== undefined && memo.changes >= WRITE_WORTH);
    this.found = found;
    if (!file || !memo || !worth || this.pending) return;
    // Written once the start that searched is under way: a few milliseconds, then it is safe.
    this.pending = setImmediate(() => {
      this.pending = undefined;
      const changes = memo.changes;
      memo.changes = 0;
      try {
        writeMemo(file, memo, this.found ?? 0);
      } catch {
        // Only a later start's speed depends on it: it searches in full instead.
        memo.changes += changes;
      }
    });
    this.pending.unref();
  }
}

/** The file: a first line `devsup-search <version> <caches found>`, then the memo as JSON. */
const MAGIC = `devsup-search ${VERSION}`;

/** The number of caches the header line tells, undefined when it is not this format's header. */
function foundIn(line: string): number | undefined {
  const m = new RegExp(`^${MAGIC} (\\d+)$`).exec(line);
  return m ? Number(m[1]) : undefined;
}

function readFound(file: string): number | undefined {
  const line = readFirstLine(file, 64);
  return line === undefined ? undefined : foundIn(line);
}

function readMemo(file: string): { dirs: [string, Entry][]; found: number } | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    const nl = text.indexOf('\n');
    const found = nl < 0 ? undefined : foundIn(text.slice(0, nl));
    if (found === undefined) return undefined;
    const data = JSON.parse(text.slice(nl + 1)) as { dirs?: unknown };
    if (!Array.isArray(data.dirs)) return undefined;
    const dirs = (data.dirs as unknown[]).filter(isEntry).map(([dir, ctime, steps]): [string, Entry] => [dir, { ctime, steps }]);
    return { dirs, found };
  } catch {
    return undefined;
  }
}

function isEntry(x: unknown): x is [string, number, Entry['steps']] {
  if (!Array.isArray(x) || x.length !== 3) return false;
  const [dir, ctime, steps] = x as unknown[];
  return (
    typeof dir === 'string' &&
    typeof ctime === 'number' &&
    Array.isArray(steps) &&
    steps.every((s) => Array.isArray(s) && s.length === 2 && [0, 1, 2, 3].includes(s[0] as number) && typeof s[1] === 'string')
  );
}

function writeMemo(file: string, memo: SearchMemo, found: number): void {
  // searchMemoPath puts the file at <state dir>/index/<name>: both levels are made and checked link-free.
  stateSubdirSync(dirname(dirname(file)), basename(dirname(file)));
  const dirs = [...memo].map(([dir, e]) => [dir, e.ctime, e.steps]);
  writeFileAtomicSync(file, `${MAGIC} ${found}\n${JSON.stringify({ dirs })}`, 0o666);
}
