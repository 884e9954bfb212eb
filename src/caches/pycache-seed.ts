import { lstat, link, mkdir, readdir, readFile, realpath, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { outermost } from '../watch/ancestry.js';
import { BYTECODE_TAG, INSTALLED } from './pycache-prefix.js';

/** How often the prefix is looked at while imports go on: Python compiles a module in a few ms. */
const POLL_MS = 10;
/** How seldom once a look found nothing new: the imports are done, or paused. */
const IDLE_POLL_MS = 160;
/** What one seeder copies at most: a few packages' bytecode, not a whole site-packages. */
const BUDGET_BYTES = 64 * 1024 * 1024;
/** Copies under way at once. */
const COPY_BATCH = 16;
/** A package's test suite is not what a run imports. */
const SKIP_DIRS = new Set(['__pycache__', 'test', 'tests']);

export interface SeedStats {
  files: number;
  bytes: number;
}

/**
 * Copies into a bytecode prefix, while a Python process starts on it, the bytecode Python keeps in
 * `__pycache__` beside code OUTSIDE the project (the standard library, installed packages, inside
 * the project or not), so a first run on an empty prefix does not compile all of it again.
 *
 * Which code the run needs is learned from the run itself: once Python writes the bytecode of a
 * module of a directory into the prefix, the bytecode of that directory's other modules (of the
 * whole package, when it is one) is copied beside it, before Python gets to most of them. The
 * copies are the files plain Python would read in place of compiling, and they carry the same
 * validation: Python checks a timestamp pyc against its source's size and mtime, a checked hash
 * pyc against its content. Unchecked hash pycs, which nothing validates, are not copied. Bytecode
 * of the project's own files (anything below `areas` that is not below an installed-packages
 * directory) is never copied: only what Python compiles itself from the file on disk, checked by
 * BytecodePrefix before each start, is ever read for it.
 */
export class PrefixSeeder {
  /** The tags of the bytecode the run writes: its interpreter's, and pytest's for modules it rewrites. */
  private readonly tags = new Set<string>();
  /** Directories of the prefix already seeded, with the tags they were seeded for. */
  private readonly seen = new Map<string, Set<string>>();
  /** Seeding under way: each directory's starts as soon as it is found, beside the others. */
  private readonly jobs = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private looking: Promise<number> | undefined;
  private project: Promise<string[]> | undefined;
  private seq = 0;
  readonly stats: SeedStats = { files: 0, bytes: 0 };

  constructor(
    /** The prefix, a real directory devsup claimed. */
    readonly dir: string,
    /** The project's directories, as BytecodePrefix knows them. */
    private readonly areas: readonly string[],
    private readonly budget = BUDGET_BYTES,
    /**
     * Whether a source file is watched. Bytecode of a watched file is never copied, wherever it is
     * (a vendored site-packages in the project is watched: its `__pycache__` may lie). Without it,
     * nothing below `areas` is copied at all.
     */
    private readonly watched?: (source: string) => boolean,
  ) {}

  /** Looks at the prefix every few milliseconds until stop(), less often while nothing new comes. */
  start(): void {
    if (this.timer || this.looking) return;
    this.stopped = false;
    this.project ??= projectDirs(this.areas);
    const next = (ms: number): void => {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.looking = this.look().catch(() => 0);
        void this.looking.then((started) => {
          this.looking = undefined;
          if (!this.stopped) next(started > 0 ? POLL_MS : Math.min(ms * 2, IDLE_POLL_MS));
        });
      }, ms);
      this.timer.unref();
    };
    next(POLL_MS);
  }

  /** Stops looking; resolves once no copy is under way. */
  async stop(): Promise<SeedStats> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.looking;
    while (this.jobs.size > 0) await Promise.all(this.jobs);
    return this.stats;
  }

  /**
   * One look at the prefix: seeding starts for every directory Python wrote bytecode into since the
   * last. Resolves with how many directories it started on, once the first of them is done.
   */
  async look(): Promise<number> {
    const project = await (this.project ??= projectDirs(this.areas));
    let started = 0;
    const walk = async (mirror: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(mirror, { withFileTypes: true });
      } catch {
        return;
      }
      let found = false;
      for (const e of entries) {
        const tag = e.isFile() ? tagOf(e.name) : undefined;
        if (tag) {
          found = true;
          this.tags.add(tag);
        }
      }
      const done = this.seen.get(mirror);
      const todo = found ? [...this.tags].filter((t) => !done?.has(t)) : [];
      const source = mirror.slice(this.dir.length) || sep;
      if (todo.length > 0 && !isProject(source, project)) {
        const job = this.seedFrom(source, todo, project)
          .catch(() => undefined)
          .finally(() => this.jobs.delete(job));
        this.jobs.add(job);
        started++;
      }
      // Dirent kinds come from lstat: a link planted in the prefix is never walked through.
      for (const e of entries) if (e.isDirectory()) await walk(join(mirror, e.name));
    };
    await walk(this.dir);
    if (this.jobs.size > 0) await Promise.race(this.jobs);
    return started;
  }

  /**
   * Seeds `source`'s directory, or the whole package it belongs to, and then the modules beside
   * that package: its directory is on the import path (the standard library's, site-packages), and
   * the first package Python compiles from it (`encodings`, at interpreter start) comes long before
   * the rest of its modules are imported.
   */
  private async seedFrom(source: string, tags: string[], project: readonly string[]): Promise<void> {
    let top = source;
    while (dirname(top) !== top && (await isFile(join(top, '__init__.py'))) && (await isFile(join(dirname(top), '__init__.py')))) top = dirname(top);
    const isPackage = await isFile(join(top, '__init__.py'));
    await this.seedDir(top, tags, isPackage, project);
    if (isPackage && dirname(top) !== top) await this.seedDir(dirname(top), tags, false, project);
  }

  private async seedDir(source: string, tags: string[], recurse: boolean, project: readonly string[]): Promise<void> {
    if (this.stats.bytes >= this.budget || isProject(source, project)) return;
    const mirror = this.dir + source;
    const done = this.seen.get(mirror) ?? new Set<string>();
    this.seen.set(mirror, done);
    tags = tags.filter((t) => !done.has(t));
    if (tags.length === 0) return;
    for (const t of tags) done.add(t);
    let names: string[] = [];
    try {
      names = await readdir(join(source, '__pycache__'));
    } catch {
      // Nothing compiled here: nor, most likely, below.
      return;
    }
    const inProject = underAny(source, project);
    if (inProject && !this.watched) return;
    const wanted = names.filter(
      (n) =>
        tags.some((t) => n.endsWith(t) && !n.slice(0, -t.length).includes('.')) &&
        !(inProject && this.watched!(join(source, `${n.slice(0, n.indexOf('.'))}.py`))),
    );
    if (wanted.length > 0 && (await this.realDir(source))) {
      const have = new Set(await readdir(mirror).catch(() => []));
      const todo = wanted.filter((n) => !have.has(n));
      // A few at a time: Python is importing meanwhile, and each copy is several file operations.
      for (let i = 0; i < todo.length && this.stats.bytes < this.budget; i += COPY_BATCH) {
        await Promise.all(todo.slice(i, i + COPY_BATCH).map((name) => this.copy(join(source, '__pycache__', name), join(mirror, name))));
      }
    }
    if (!recurse) return;
    let subs;
    try {
      subs = await readdir(source, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of subs) {
      if (!e.isDirectory() || SKIP_DIRS.has(e.name)) continue;
      if (!(await isFile(join(source, e.name, '__init__.py')))) continue;
      await this.seedDir(join(source, e.name), tags, true, project);
    }
  }

  /**
   * Makes the mirror of `source` in the prefix, each level a real directory made here or found:
   * a link planted anywhere on the way is never written through.
   */
  private async realDir(source: string): Promise<boolean> {
    let path = this.dir;
    for (const part of source.split(sep).filter(Boolean)) {
      path = join(path, part);
      await mkdir(path, { mode: 0o700 }).catch(() => undefined);
      const st = await lstat(path).catch(() => undefined);
      if (!st?.isDirectory()) return false;
    }
    return true;
  }

  /**
   * Copies one pyc unless the prefix has it already, atomically: Python may read the name at any
   * moment, and a half-written file would fail its import. Python's own rename wins over ours.
   */
  private async copy(from: string, to: string): Promise<void> {
    let data: Buffer;
    try {
      data = await readFile(from);
    } catch {
      return;
    }
    // Flags: 0 timestamp, 3 checked hash; 1 (unchecked hash) is run without looking at the source.
    if (data.length < 16 || (data.readUInt32LE(4) & 3) === 1) return;
    // Taken from the budget before the write: copies run side by side.
    if (this.stats.bytes + data.length > this.budget) return;
    this.stats.bytes += data.length;
    // A name Python itself would give its temporary file, so pruning knows it if devsup dies here.
    const tmp = `${to}.${process.pid}${++this.seq}`;
    let linked = false;
    try {
      await writeFile(tmp, data, { flag: 'wx', mode: 0o600 });
      await link(tmp, to);
      linked = true;
      this.stats.files++;
    } catch {
      // EEXIST: Python wrote it meanwhile. Anything else: this pyc is compiled as before.
    } finally {
      if (!linked) this.stats.bytes -= data.length;
      await unlink(tmp).catch(() => undefined);
    }
  }
}

/** What follows the module's name in a bytecode file's name, or undefined for any other file. */
function tagOf(name: string): string | undefined {
  const dot = name.indexOf('.');
  if (dot <= 0) return undefined;
  const tag = name.slice(dot);
  return BYTECODE_TAG.test(tag) ? tag : undefined;
}

/** The project's directories and their real paths: Python names a source by the path it imported it from. */
async function projectDirs(areas: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const a of outermost(areas.map((x) => resolve(x)))) {
    out.push(a);
    const real = await realpath(a).catch(() => a);
    if (real !== a) out.push(real);
  }
  return out;
}

/** `source` relative to `dir`, or undefined when it is not at or below it. */
function below(dir: string, source: string): string | undefined {
  const rel = relative(dir, source);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? undefined : rel;
}

function underAny(source: string, dirs: readonly string[]): boolean {
  return dirs.some((d) => below(d, source) !== undefined);
}

/** Below a project directory and not below an installed-packages directory in it. */
export function isProject(source: string, project: readonly string[]): boolean {
  return project.some((p) => {
    const rel = below(p, source);
    return rel !== undefined && !rel.split(sep).some((part) => INSTALLED.has(part));
  });
}

async function isFile(path: string): Promise<boolean> {
  const st = await lstat(path).catch(() => undefined);
  return st?.isFile() ?? false;
}
