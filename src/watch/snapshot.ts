import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { relative } from 'node:path';
import type { ChangeSet } from '../core/events.js';

/** One file's content identity. */
export interface FileEntry {
  size: number;
  hash: string;
}

export interface Snapshot {
  /** Increases with every snapshot of a tree; a barrier compares these, never clocks. */
  seq: number;
  files: ReadonlyMap<string, FileEntry>;
  /** Short hash of every path and content: equal code ids mean identical watched code. */
  codeId: string;
}

interface CacheEntry extends FileEntry {
  statKey: string;
  /**
   * A stat-identical file may still have changed when its ctime is too close to when we read it
   * (timestamps come from a coarse clock), so such an entry is re-hashed next time (as git does
   * with "racily clean" index entries).
   */
  trusted: boolean;
}

/** Whatever is newer than this, relative to the read, is not trusted to stat alone. */
const RACY_WINDOW_NS = 200_000_000n;
const HASH_CONCURRENCY = 32;

/**
 * Takes content snapshots of a file list. Hashes are kept between snapshots and reused only when
 * size, mtime, ctime and inode are unchanged and the entry was not racy; ctime cannot be set by
 * `touch -d`, `tar` or `cp -p`, so a restored mtime never hides a change.
 */
export class Snapshotter {
  private readonly cache = new Map<string, CacheEntry>();
  private seq = 0;

  /** `base` makes the code id independent of where the checkout lives. */
  constructor(
    private readonly listFiles: () => Promise<string[]>,
    private readonly base: string,
  ) {}

  async take(): Promise<Snapshot> {
    const seq = ++this.seq;
    const paths = await this.listFiles();
    const files = new Map<string, FileEntry>();
    const seen = new Set<string>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < paths.length) {
        const p = paths[next++]!;
        const entry = await this.entryFor(p);
        if (entry) {
          files.set(p, { size: entry.size, hash: entry.hash });
          seen.add(p);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, paths.length) }, worker));
    for (const p of this.cache.keys()) if (!seen.has(p)) this.cache.delete(p);
    const sorted = new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return { seq, files: sorted, codeId: codeIdOf(sorted, this.base) };
  }

  private async entryFor(path: string): Promise<CacheEntry | undefined> {
    let st;
    try {
      st = await stat(path, { bigint: true });
    } catch {
      return undefined; // vanished between listing and stat: it is simply not there
    }
    if (!st.isFile()) return undefined;
    const statKey = `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;
    const cached = this.cache.get(path);
    if (cached && cached.trusted && cached.statKey === statKey) return cached;
    const hash = await hashFile(path);
    if (hash === undefined) return undefined;
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const entry: CacheEntry = { size: Number(st.size), hash, statKey, trusted: nowNs - st.ctimeNs > RACY_WINDOW_NS };
    this.cache.set(path, entry);
    return entry;
  }
}

async function hashFile(path: string): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
    const h = createHash('sha1');
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
    return h.digest('hex');
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

function codeIdOf(files: ReadonlyMap<string, FileEntry>, base: string): string {
  const h = createHash('sha1');
  for (const [p, e] of files) h.update(`${relative(base, p)}\0${e.hash}\n`);
  return h.digest('hex').slice(0, 10);
}

/** What differs between two snapshots, by content. */
export function diffSnapshots(before: Snapshot, after: Snapshot): ChangeSet {
  const added: string[] = [];
  const modified: string[] = [];
  const removed: string[] = [];
  for (const [p, e] of after.files) {
    const old = before.files.get(p);
    if (!old) added.push(p);
    else if (old.hash !== e.hash) modified.push(p);
  }
  for (const p of before.files.keys()) if (!after.files.has(p)) removed.push(p);
  return { added, modified, removed };
}

export function isEmptyChange(c: ChangeSet): boolean {
  return c.added.length === 0 && c.modified.length === 0 && c.removed.length === 0;
}

export function changedPaths(c: ChangeSet): string[] {
  return [...c.modified, ...c.added, ...c.removed];
}
