import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readFirstLine } from '../core/first-line.js';
import { isTempOf, openAtomicSync, prunable, stateSubdirSync } from '../state/files.js';
import { SliceClock } from '../core/slices.js';
import { CodeSum } from './code-sum.js';
import { readFileState, trusted, type FileState } from './file-state.js';

/**
 * The file states of a tree, saved between runs so that the next start reads only the files whose
 * stat changed (git's index does the same for `git status`). A saved state is taken again only when
 * size, ctime and inode all match and it was trusted when saved, exactly as within one run; a
 * missing, foreign or damaged index only costs the reads it would have saved.
 *
 * Format: a header line `devsup-index 3<TAB>base<TAB>code id<TAB>files<TAB>checksum`, then
 * `relative path<TAB>state` per file. The code id is the one a snapshot of exactly the saved files
 * has, or dashes when some file of the tree could not be saved: only an index that covers the
 * whole tree can vouch for it. The checksum (SHA-1 over the header's fields and every line after
 * it) and the code id are checked on load: a damaged index is discarded whole, since a start may
 * already run on its header's code id and only a full look can tell which files are what.
 */
const MAGIC = 'devsup-index 3';

/** The first field of an index's header line; followed by the base directory its paths are relative to. */
export const INDEX_MAGIC = MAGIC;
const NO_CHECKSUM = '-'.repeat(40);
const NO_CODE_ID = '----------';
/** Wide enough for any count of files, so the header is written in place once they are counted. */
const COUNT_WIDTH = 10;
const CHUNK_CHARS = 64 * 1024;
const ABANDONED_MS = 60_000;
/** A hash, the trust flag and the shortest identity `0:0:0`. */
const MIN_STATE = 27 + 1 + 5;

/** The subdirectory of the state directory where indexes (and saved cache searches) are kept. */
export const INDEX_DIR = 'index';

/** Where the states of the tree watched from `roots` are kept in a project's state directory. */
export function indexPath(stateDir: string, roots: readonly string[]): string {
  return join(stateDir, INDEX_DIR, createHash('sha1').update(roots.join('\n')).digest('hex').slice(0, 16));
}

/** States saved by an earlier run, looked up by path relative to the tree's base. */
export interface SavedStates {
  readonly size: number;
  /** The saved tree's code id; undefined when some of its files could not be saved. */
  readonly codeId: string | undefined;
  get(rel: string): FileState | undefined;
  /** Saved paths that no `get()` has asked for yet: files gone since the save, after a full look. */
  unvisited(): string[];
  /** Every saved path with its state, damaged lines left out. */
  entries(): Iterable<[string, FileState]>;
}

/** What the header tells: the code id of the whole tree when it was saved, if every file was. */
export interface SavedSummary {
  codeId: string;
  files: number;
}

interface Header {
  /** Undefined when some file of the tree could not be saved. */
  codeId: string | undefined;
  files: number;
  checksum: string;
}

function parseHeader(line: string, base: string): Header | undefined {
  const prefix = `${MAGIC}\t${base}\t`;
  if (!line.startsWith(prefix)) return undefined;
  const [codeId, files, checksum, extra] = line.slice(prefix.length).split('\t');
  if (codeId === undefined || files === undefined || !/^\s*\d+$/.test(files) || !checksum || !/^[0-9a-f]{40}$/.test(checksum) || extra !== undefined) return undefined;
  if (codeId !== NO_CODE_ID && !/^[0-9a-f]{10}$/.test(codeId)) return undefined;
  return { codeId: codeId === NO_CODE_ID ? undefined : codeId, files: Number(files), checksum };
}

/** What the checksum covers: the header's fields as written, then the digest of every byte after the header. */
function checksum(base: string, codeField: string, countField: string, bodyDigest: Buffer): string {
  return createHash('sha1').update(`${MAGIC}\t${base}\t${codeField}\t${countField}\n`).update(bodyDigest).digest('hex');
}

/**
 * The header alone, read before anything else at start: a few hundred bytes instead of the whole
 * index. Undefined when there is no index for `base` or it does not cover the whole tree.
 */
export function readSummary(file: string, base: string): SavedSummary | undefined {
  const line = readFirstLine(file, Buffer.byteLength(base) + 128);
  const h = line === undefined ? undefined : parseHeader(line, base);
  return h?.codeId === undefined ? undefined : { codeId: h.codeId, files: h.files };
}

export interface LoadOptions {
  /** Told why an index for this base was discarded as damaged. */
  onDamaged?: (why: string) => void;
  /** The code id a start already runs on (from readSummary): an index that disagrees is damaged. */
  codeId?: string;
}

/**
 * The saved states, undefined when there is no usable index for `base`: none, another base's or
 * another format's, or a damaged one (then `onDamaged` says why). An index proves itself: its
 * checksum must match its bytes, its count its lines, and its code id the sum of its states.
 */
export async function loadIndex(file: string, base: string, opts: LoadOptions = {}): Promise<SavedStates | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch {
    return undefined;
  }
  const headerEnd = buf.indexOf(10);
  const headerText = headerEnd < 0 ? buf.toString('utf8', 0, Math.min(buf.length, 4096)) : buf.toString('utf8', 0, headerEnd);
  // Another base's or an older format's index is simply not ours; a damaged one of ours is reported.
  if (!headerText.startsWith(`${MAGIC}\t${base}\t`)) return undefined;
  const damaged = (why: string): undefined => {
    opts.onDamaged?.(why);
    return undefined;
  };
  const header = headerEnd < 0 ? undefined : parseHeader(headerText, base);
  if (!header) return damaged('its header is malformed');
  const [codeField = '', countField = ''] = headerText.slice(`${MAGIC}\t${base}\t`.length).split('\t');
  const sum = checksum(base, codeField, countField, createHash('sha1').update(buf.subarray(headerEnd + 1)).digest());
  if (sum !== header.checksum) return damaged('its checksum does not match its content');
  const bounds = await lineBounds(buf, headerEnd + 1);
  const index = new SavedIndex(buf, bounds, header.codeId);
  if (bounds.count !== header.files) return damaged(`it has ${bounds.count} entries where its header says ${header.files}`);
  if (header.codeId !== undefined) {
    const code = new CodeSum();
    index.eachState((st) => code.add(st));
    if (code.id !== header.codeId) return damaged(`its code id ${header.codeId} is not the sum of its entries (${code.id})`);
  }
  if (opts.codeId !== undefined && opts.codeId !== header.codeId) return damaged(`it changed since the start read its code id ${opts.codeId}`);
  return index;
}

interface Bounds {
  count: number;
  starts: Uint32Array;
  tabs: Uint32Array;
  ends: Uint32Array;
}

/**
 * Where each line starts, has its last tab and ends; lines without a tab are left out. A line may
 * start with its tab: a watched root that is a file is its own base, and its path is empty.
 */
async function lineBounds(buf: Buffer, from: number): Promise<Bounds> {
  let cap = 1024;
  let b: Bounds = { count: 0, starts: new Uint32Array(cap), tabs: new Uint32Array(cap), ends: new Uint32Array(cap) };
  const clock = new SliceClock();
  let lines = 0;
  for (let at = from; at < buf.length; ) {
    let end = buf.indexOf(10, at);
    if (end < 0) end = buf.length;
    const tab = buf.lastIndexOf(9, end);
    if (tab >= at) {
      if (b.count === cap) {
        cap *= 2;
        const grow = (a: Uint32Array) => {
          const g = new Uint32Array(cap);
          g.set(a);
          return g;
        };
        b = { count: b.count, starts: grow(b.starts), tabs: grow(b.tabs), ends: grow(b.ends) };
      }
      b.starts[b.count] = at;
      b.tabs[b.count] = tab;
      b.ends[b.count] = end;
      b.count++;
    }
    at = end + 1;
    if ((++lines & 1023) === 0 && clock.due()) await clock.next();
  }
  return b;
}

/**
 * The index is written in the order the tree is walked, and a start walks it in the same order
 * unless directories changed: lookups then follow a cursor and compare bytes, and no path is
 * decoded. A path out of step is found through a table, built the first time one is.
 */
class SavedIndex implements SavedStates {
  private cursor = 0;
  private table: Map<string, number> | undefined;
  private readonly visited: Uint8Array;

  constructor(
    private readonly buf: Buffer,
    private readonly b: Bounds,
    readonly codeId: string | undefined,
  ) {
    this.visited = new Uint8Array(b.count);
  }

  get size(): number {
    return this.b.count;
  }

  get(rel: string): FileState | undefined {
    let i = this.cursor;
    if (i >= this.b.count || !this.relIs(i, rel)) {
      this.table ??= this.buildTable();
      const found = this.table.get(rel);
      if (found === undefined) return undefined;
      i = found;
    }
    this.cursor = i + 1;
    this.visited[i] = 1;
    return this.stateAt(i);
  }

  private stateAt(i: number): FileState | undefined {
    // Decoded from the buffer, each state stands alone instead of pinning the whole file's text.
    const state = this.buf.toString('latin1', this.b.tabs[i]! + 1, this.b.ends[i]!);
    // Only trusted states are saved; anything else is damage. A state is taken again only when its
    // stat identity matches the file's, so a damaged one is at worst read again.
    return state.length > MIN_STATE && trusted(state) ? state : undefined;
  }

  /** Every state, damaged lines left out, without decoding a path. */
  eachState(fn: (st: FileState) => void): void {
    for (let i = 0; i < this.b.count; i++) {
      const st = this.stateAt(i);
      if (st !== undefined) fn(st);
    }
  }

  *entries(): Iterable<[string, FileState]> {
    for (let i = 0; i < this.b.count; i++) {
      const st = this.stateAt(i);
      if (st !== undefined) yield [this.relText(i), st];
    }
  }

  unvisited(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.b.count; i++) if (this.visited[i] === 0) out.push(this.relText(i));
    return out;
  }

  private relIs(i: number, rel: string): boolean {
    const start = this.b.starts[i]!;
    const len = this.b.tabs[i]! - start;
    if (len !== rel.length) return len >= rel.length && this.relText(i) === rel;
    for (let k = 0; k < len; k++) {
      const c = rel.charCodeAt(k);
      if (c > 127) return this.relText(i) === rel;
      if (this.buf[start + k] !== c) return false;
    }
    return true;
  }

  private relText(i: number): string {
    return this.buf.toString('utf8', this.b.starts[i]!, this.b.tabs[i]!);
  }

  private buildTable(): Map<string, number> {
    const t = new Map<string, number>();
    for (let i = 0; i < this.b.count; i++) t.set(this.relText(i), i);
    return t;
  }
}

/**
 * Writes the trusted states of `files` (absolute paths) in place of the index, through a temporary
 * file and a rename, so a reader never sees half of it. A state too recent to trust when it was
 * taken is taken again now, usually long enough after the write to be trusted: an index saved just
 * after an edit still covers the edited file.
 */
export async function saveIndex(
  file: string,
  base: string,
  files: ReadonlyMap<string, FileState>,
  relOf: (abs: string) => string,
): Promise<void> {
  // indexPath puts the file at <state dir>/index/<name>: both levels are made and checked link-free,
  // but never the project directory above them: a project moved or removed while running is not
  // made again at its old path.
  const project = dirname(dirname(dirname(file)));
  if (!existsSync(project)) throw Object.assign(new Error(`ENOENT: the project directory ${project} is gone`), { code: 'ENOENT' });
  stateSubdirSync(dirname(dirname(file)), basename(dirname(file)));
  dropAbandoned(file);
  const out = openAtomicSync(file);
  const fd = out.fd;
  let done = false;
  const countField = (count: number) => String(count).padStart(COUNT_WIDTH);
  const header = (codeId: string, count: number, checksum: string) => `${MAGIC}\t${base}\t${codeId}\t${countField(count)}\t${checksum}\n`;
  try {
    let chunk = header(NO_CODE_ID, 0, NO_CHECKSUM);
    const headerBytes = Buffer.byteLength(chunk);
    // Everything after the header, as written: the checksum covers it.
    const body = createHash('sha1');
    const sum = new CodeSum();
    let saved = 0;
    let complete = true;
    const clock = new SliceClock();
    let n = 0;
    let first = true;
    const flush = () => {
      writeSync(fd, chunk);
      body.update(first ? chunk.slice(chunk.indexOf('\n') + 1) : chunk);
      first = false;
      chunk = '';
    };
    for (const [abs, taken] of files) {
      const rel = relOf(abs);
      const st = trusted(taken) ? taken : readFileState(abs, rel);
      // A name with a tab or a newline would break the line format: such a file is simply read.
      if (st !== undefined && trusted(st) && !/[\t\n]/.test(rel)) {
        chunk += `${rel}\t${st}\n`;
        sum.add(st);
        saved++;
      } else complete = false;
      if (chunk.length >= CHUNK_CHARS) flush();
      if ((++n & 1023) === 0 && clock.due()) await clock.next();
    }
    flush();
    const codeId = complete ? sum.id : NO_CODE_ID;
    // Same width as the placeholder, so it overwrites it exactly.
    const final = header(codeId, saved, checksum(base, codeId, countField(saved), body.digest()));
    if (Buffer.byteLength(final) !== headerBytes) throw new Error('index header changed width');
    writeSync(fd, final, 0);
    done = true;
  } finally {
    if (done) out.commit();
    else out.abort();
  }
}

/** A write cut short by SIGKILL leaves its temporary file; after a minute nobody is writing it. */
function dropAbandoned(file: string): void {
  const dir = dirname(file);
  const base = basename(file);
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!prunable(e, 'file', (name) => isTempOf(name, base))) continue;
      const p = join(dir, e.name);
      if (Date.now() - lstatSync(p).mtimeMs > ABANDONED_MS) rmSync(p, { force: true });
    }
  } catch {
    // Whatever cannot be tidied now is tried again at the next save.
  }
}
