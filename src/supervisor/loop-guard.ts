import { extname, relative, resolve, sep } from 'node:path';
import type { Bus } from '../core/bus.js';
import type { ChangeSet } from '../core/events.js';

/**
 * A change this soon after a start counts as made by the child that just started. Short on
 * purpose: a person saving a file again and again is rarely this quick after every restart, and
 * a loop missed only costs restarts, while a person's edit taken for a loop would stop a source
 * from being watched.
 */
export const LOOP_WINDOW_MS = 1000;
/** Consecutive generations that must each change the same files before it is called a loop. */
export const LOOP_GENERATIONS = 5;
/**
 * The same for files that look like sources or documents (never left out, see `startupWrites`):
 * after this many in a row, the restarts are only pointed out. An agent editing as fast as the new
 * code answers rarely keeps that up for this long; a program writing its own `notes.txt` at every
 * start gets there in seconds.
 */
export const EDITED_LOOP_GENERATIONS = 20;

/**
 * Pure detection: fed the starts and the settled changes of one worker, it answers with the files
 * that changed within `windowMs` of each of the last `generations` starts. One generation without
 * such a change, or a change of other files, starts the count again. Only files a program writes
 * as it runs are fed in (see `startupWrites`): a person or an agent editing code as fast as the
 * new code answers is never taken for a loop. A change made after someone asked whether the
 * generation was fresh (`wait-fresh`) is the asker's, never counted either (see `vouched`).
 */
export class LoopDetector {
  private start: { gen: number; at: number; vouched: boolean } | undefined;
  private counted = -1;
  private streak = 0;
  private files = new Set<string>();

  constructor(
    private readonly windowMs = LOOP_WINDOW_MS,
    private readonly generations = LOOP_GENERATIONS,
  ) {}

  started(gen: number, at: number): void {
    if (this.start && this.counted !== this.start.gen) this.reset();
    this.start = { gen, at, vouched: false };
  }

  /** Someone was told the running generation is fresh (`wait-fresh`): what changes next is theirs. */
  vouched(): void {
    if (this.start) this.start.vouched = true;
  }

  /** The looping files once the pattern is complete, else undefined. */
  changed(paths: readonly string[], at: number): string[] | undefined {
    const s = this.start;
    if (!s || this.counted === s.gen) return undefined;
    if (at - s.at > this.windowMs || s.vouched || paths.length === 0) {
      this.counted = s.gen;
      this.reset();
      return undefined;
    }
    this.counted = s.gen;
    const common = this.streak === 0 ? new Set(paths) : new Set(paths.filter((p) => this.files.has(p)));
    if (common.size === 0) {
      this.streak = 1;
      this.files = new Set(paths);
    } else {
      this.streak++;
      this.files = common;
    }
    if (this.streak < this.generations) return undefined;
    const found = [...this.files].sort();
    this.reset();
    return found;
  }

  private reset(): void {
    this.streak = 0;
    this.files.clear();
  }
}

export interface GuardedTree {
  readonly roots: string[];
  readonly isClosed: boolean;
  /** Stops counting these absolute paths as part of the tree. */
  exclude(paths: string[]): Promise<void>;
}

/**
 * Watches one worker's events for a child writing into its own tree, and when it does, leaves
 * those files out of the tree and says so, with the `--ignore` that makes it permanent. Leaving
 * them out changes the tree once more, so the worker restarts one last time without them.
 */
export function guardLoops(
  bus: Bus,
  worker: string,
  tree: GuardedTree,
  cwd: string,
  detector = new LoopDetector(),
  edits = new LoopDetector(LOOP_WINDOW_MS, EDITED_LOOP_GENERATIONS),
): { vouched(): void } {
  const told = new Set<string>();
  const off = bus.on((e) => {
    if (tree.isClosed) {
      off();
      return;
    }
    if (!('worker' in e) || e.worker !== worker) return;
    if (e.type === 'worker-started') {
      detector.started(e.generation, Date.now());
      edits.started(e.generation, Date.now());
    } else if (e.type === 'change') {
      // Never left out, but a long run of restarts each caused by them right after the start is
      // most likely the program writing them: said once, with the --ignore that stops it.
      const { edited: editedNow, written } = splitChange(e.changes);
      const edited = edits.changed(editedNow, Date.now());
      if (edited && !told.has(edited.join('\0'))) {
        told.add(edited.join('\0'));
        const fix = edited.map((f) => `--ignore ${ignoreFor(resolve(cwd, f), tree.roots)}`).join(' ');
        bus.emit({
          type: 'warning',
          worker,
          message: `${edited.join(', ')} changed right after each of ${EDITED_LOOP_GENERATIONS} starts in a row; such files stay watched (they look like sources or documents), so if the program writes them itself, stop the restarts with ${fix}`,
        });
      }
      const files = detector.changed(written, Date.now());
      if (!files) return;
      const abs = files.map((f) => resolve(cwd, f));
      bus.emit({ type: 'loop', worker, files, generations: LOOP_GENERATIONS, ignore: abs.map((p) => ignoreFor(p, tree.roots)) });
      void tree.exclude(abs);
    }
  });
  return {
    vouched: () => {
      detector.vouched();
      edits.vouched();
    },
  };
}

/**
 * What people edit: source code, configuration and documents. A program writes logs, databases,
 * caches and pid files as it starts; it seldom writes its own code or settings, while a script or
 * an agent edits these as fast as any loop (append a line, read the new output, append again).
 * Leaving an edited source unwatched would run stale code unseen, where a loop missed only costs
 * restarts that show, so such files are never counted.
 */
const EDITED = new Set(
  (
    'py pyi pyx pxd js mjs cjs jsx ts mts cts tsx vue svelte astro rb go rs java kt kts scala groovy clj ' +
    'ex exs erl hrl hs ml mli fs cs vb php pl pm lua r jl dart swift m mm c h cc cpp cxx hpp hh zig nim ' +
    'sh bash zsh fish ps1 sql graphql gql proto html htm css scss sass less styl ejs hbs pug njk jinja j2 ' +
    'json json5 jsonc yaml yml toml ini cfg conf properties env xml md mdx rst txt tf'
  ).split(' '),
);

/** The paths of a change that a starting program may have made: everything but what people edit. */
export function startupWrites(c: ChangeSet): string[] {
  return splitChange(c).written;
}

/** The paths of a change, as what people edit and the rest (what a starting program may have written). */
function splitChange(c: ChangeSet): { edited: string[]; written: string[] } {
  const edited: string[] = [];
  const written: string[] = [];
  for (const p of [...c.modified, ...c.added, ...c.removed]) (isEdited(p) ? edited : written).push(p);
  return { edited, written };
}

function isEdited(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name.startsWith('.env') || name === 'Dockerfile' || name === 'Makefile') return true;
  return EDITED.has(extname(name).slice(1).toLowerCase());
}

/** The path below the innermost root, as `--ignore` takes it (a bare name matches at any depth). */
export function ignoreFor(abs: string, roots: readonly string[]): string {
  const root = roots
    .map((r) => resolve(r))
    .filter((r) => abs.startsWith(r.endsWith(sep) ? r : r + sep))
    .sort((a, b) => b.length - a.length)[0];
  const rel = root ? relative(root, abs).split(sep).join('/') : abs;
  return rel;
}
