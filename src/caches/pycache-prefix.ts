import { lstat, readdir, realpath, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stateSubdir } from '../state/files.js';
import { outermost } from '../watch/ancestry.js';
import type { Snapshot } from '../watch/snapshot.js';
import { claimPrefixDir, type PrefixClaim } from './pycache-lock.js';

/**
 * One PYTHONPYCACHEPREFIX kept across generations (and across runs of devsup), so the standard
 * library and installed packages are compiled once. Python checks a timestamp pyc only against the
 * source's whole-second mtime and its size, so before every start the bytecode of each project file
 * that may have been compiled from other content than the start's snapshot holds is removed.
 *
 * "May have been" is decided by the file's state, not by timestamps: a snapshot keeps each file's
 * content hash and its size, ctime and inode. Every write and every utimes() (touch -d, cp -p,
 * os.utime) moves ctime, so a file whose state is the same in the snapshot the previous child
 * started on and in the next one was not written in between, and whatever that child compiled of it
 * was compiled from the content the next child starts on. A file written at any moment in between,
 * even back to the same content (an edit made and undone while the previous child was compiling),
 * loses its bytecode.
 */
export class BytecodePrefix {
  /** The snapshot the most recent process using the prefix started on; none before the first. */
  private last: Snapshot | undefined;
  /** Snapshots of processes that may still be running and writing bytecode (parallel runs). */
  private readonly open = new Set<Snapshot>();

  constructor(
    readonly dir: string,
    /** Directories whose Python files are the project's: their bytecode is checked before every start. */
    private areas: readonly string[],
    private readonly claim?: PrefixClaim,
  ) {}

  /**
   * Other project directories (a worker reloaded with other roots): the next start is checked as a
   * first one, since what was compiled below the new directories was never checked.
   */
  setAreas(areas: readonly string[]): void {
    if (areas.length === this.areas.length && areas.every((a, i) => a === this.areas[i])) return;
    this.areas = [...areas];
    this.last = undefined;
    this.open.clear();
  }

  /**
   * Removes the bytecode that the next process, started on `next`, could be served although it was
   * compiled from something else, and remembers `next` for the following start. `release` is for
   * callers that run processes side by side: until it is called, later starts are also checked
   * against `next`.
   */
  async prepare(next: Snapshot): Promise<{ removed: number; release(): void }> {
    const refs = this.last ? [this.last, ...this.open] : [];
    // Keeps a module's bytecode: `base` is its source without `.py` or `.pyw`.
    const keep = (base: string, installed: boolean): boolean => {
      const sources = [`${base}.py`, `${base}.pyw`].filter((source) => next.files.has(source));
      // Installed code nobody watches (a virtualenv in the project) is left to Python's own check;
      // installed code that is watched (a vendored site-packages) is judged like the rest.
      if (sources.length === 0) return installed;
      // The first start of this process knows nothing of what earlier ones compiled.
      if (refs.length === 0) return false;
      return sources.some((source) => refs.every((r) => sameState(r.files.get(source), next.files.get(source)!)));
    };
    let removed = 0;
    for (const area of await this.mirrors()) removed += await removeUnkept(area.mirror, area.source, keep);
    this.last = next;
    this.open.add(next);
    return { removed, release: () => this.open.delete(next) };
  }

  /** Lets another process claim the directory once this one no longer starts anything there. */
  close(): void {
    this.claim?.release();
  }

  /**
   * Where Python puts the bytecode of each area. It names a source by the path it imported it
   * from, which may be the area's real path (the working directory is always a real path).
   */
  private async mirrors(): Promise<{ mirror: string; source: string }[]> {
    const out: { mirror: string; source: string }[] = [];
    for (const area of outermost(this.areas.map((a) => resolve(a)))) {
      out.push({ mirror: join(this.dir, area), source: area });
      const real = await realpath(area).catch(() => area);
      if (real !== area) out.push({ mirror: join(this.dir, real), source: area });
    }
    return out;
  }
}

/** Same content and the same size, ctime and inode; whether the state was trusted does not matter. */
function sameState(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  if (a === b) return true;
  // The state is a 27-character hash, a trust flag, then the stat identity (see file-state.ts).
  return a.length === b.length && a.slice(0, 27) === b.slice(0, 27) && a.slice(28) === b.slice(28);
}

/**
 * What follows a module's name in its bytecode's name: the interpreter's cache tag, pytest's tag for
 * test modules it rewrote (which pytest, too, trusts by mtime and size), an optimization level.
 * `name.cpython-311.pyc`, `name.cpython-311.opt-1.pyc`, `test_x.cpython-311-pytest-8.3.2.pyc`.
 */
export const BYTECODE_TAG = /^\.[a-z]+-?\d+(?:-pytest-[0-9A-Za-z.+-]+?)?(?:\.opt-\d+)?\.pyc$/;

/** The module names (the source's name without `.py`) a bytecode file's name may stand for. */
function sourceBases(pyc: string): string[] {
  const out: string[] = [];
  for (let dot = pyc.indexOf('.'); dot > 0; dot = pyc.indexOf('.', dot + 1)) {
    if (BYTECODE_TAG.test(pyc.slice(dot))) out.push(pyc.slice(0, dot));
  }
  return out;
}

/** Installed code, kept like the standard library: checked by Python's own mtime and size test. */
export const INSTALLED = new Set(['site-packages', 'dist-packages']);

/**
 * Walks the bytecode under `mirror` (never through a symlink) and removes each pyc whose source
 * below `source` is not to be kept: not watched, changed, or of unknown history.
 */
async function removeUnkept(mirror: string, source: string, keep: (base: string, installed: boolean) => boolean): Promise<number> {
  let removed = 0;
  const walk = async (dir: string, src: string, installed: boolean): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // nothing compiled here yet
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        await walk(path, join(src, e.name), installed || INSTALLED.has(e.name));
        continue;
      }
      if (!e.isFile()) continue;
      if (!e.name.endsWith('.pyc')) continue;
      const bases = sourceBases(e.name).map((name) => join(src, name));
      if (bases.some((base) => keep(base, installed))) continue;
      await rm(path, { force: true });
      removed++;
    }
  };
  // The walk starts only from a real directory, never a link planted in the prefix.
  const st = await lstat(mirror).catch(() => undefined);
  if (st?.isDirectory()) await walk(mirror, source, false);
  return removed;
}

/** `<stateDir>/pycache`: every prefix devsup keeps for a project. */
export function pycacheRoot(stateDir: string): string {
  return join(resolve(stateDir), 'pycache');
}

/**
 * The prefix of one worker (or of `flake`), claimed for this process. A prefix another live
 * process uses is never shared: its children could write bytecode this process has just checked.
 */
export async function openBytecodePrefix(stateDir: string, key: string, areas: readonly string[]): Promise<BytecodePrefix> {
  // Made link-free inside .devsup: a planted symlink is refused (StateError), never followed.
  const root = await stateSubdir(resolve(stateDir), 'pycache');
  const claim = await claimPrefixDir(root, safeKey(key));
  return new BytecodePrefix(claim.dir, areas, claim);
}

function safeKey(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
}

/** Environment additions for a Python child using `prefix`. */
export function pythonEnv(prefix: string): Record<string, string> {
  return { PYTHONPYCACHEPREFIX: prefix };
}
