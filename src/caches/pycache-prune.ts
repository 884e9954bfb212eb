import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { lockHeldElsewhere } from './pycache-lock.js';

/**
 * What all of a project's bytecode prefixes may hold together. A full standard library compiles to
 * about 30 MB, a large application with its packages to a few times that; past this the least
 * recently used bytecode goes first, and all it costs is a compile on the next import.
 */
export const PYCACHE_LIMIT_BYTES = 256 * 1024 * 1024;
/** Pruning goes this far below the limit, so it does not run again at the next few imports. */
const PRUNE_TO = 0.75;

/** What Python writes into a prefix: bytecode, and the temporary file it renames into place. */
const BYTECODE = /\.pyc(?:\.\d+)?$/;
/** Per-generation and per-session directories of earlier versions, all devsup's own. */
const LEGACY_DIR = /^(?:gen-\d+-|flake-)/;

interface PycFile {
  path: string;
  size: number;
  usedMs: number;
}

export interface PruneResult {
  /** Bytes of bytecode found before pruning. */
  before: number;
  removed: number;
  freed: number;
}

/**
 * Cuts the bytecode below `root` (`.devsup/pycache`) down to `limit` bytes, least recently used
 * first. Only bytecode is ever removed, symlinks are neither followed nor removed, and a root that
 * is not a real directory is left alone.
 */
export async function prunePycache(root: string, limit = PYCACHE_LIMIT_BYTES): Promise<PruneResult> {
  const st = await lstat(root).catch(() => undefined);
  if (!st?.isDirectory()) return { before: 0, removed: 0, freed: 0 };
  for (const e of await readdir(root, { withFileTypes: true })) {
    if (e.isDirectory() && LEGACY_DIR.test(e.name)) await rm(join(root, e.name), { recursive: true, force: true });
  }
  const files = await bytecodeBelow(root);
  const before = files.reduce((n, f) => n + f.size, 0);
  if (before <= limit) return { before, removed: 0, freed: 0 };
  // atime moves on a read at most once a day (relatime) and never with noatime, so it is a hint:
  // the later of the two times says when the file was last written or (roughly) read.
  files.sort((a, b) => a.usedMs - b.usedMs);
  let total = before;
  let removed = 0;
  for (const f of files) {
    if (total <= limit * PRUNE_TO) break;
    await rm(f.path, { force: true });
    total -= f.size;
    removed++;
  }
  return { before, removed, freed: before - total };
}

async function bytecodeBelow(root: string): Promise<PycFile[]> {
  const out: PycFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      // Dirent kinds come from lstat: a symlink is neither a directory nor a file here.
      if (e.isDirectory()) await walk(path);
      else if (e.isFile() && BYTECODE.test(e.name)) {
        const s = await lstat(path).catch(() => undefined);
        if (s?.isFile()) out.push({ path, size: s.size, usedMs: Math.max(s.mtimeMs, s.atimeMs) });
      }
    }
  };
  await walk(root);
  return out;
}

export interface RemoveResult {
  paths: string[];
  bytes: number;
  errors: string[];
}

/**
 * `devsup clean`: the whole of `.devsup/pycache` except the locks of live processes (their prefix
 * is emptied; they are only slower at their next imports). A symlink in its place is refused.
 */
export async function removePycache(root: string, dryRun: boolean): Promise<RemoveResult> {
  const res: RemoveResult = { paths: [], bytes: 0, errors: [] };
  const st = await lstat(root).catch(() => undefined);
  if (!st) return res;
  if (!st.isDirectory()) {
    res.errors.push(`${root}: not a directory (a symlink?); left alone`);
    return res;
  }
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    res.errors.push(`${root}: ${errorMessage(err)}`);
    return res;
  }
  const live = names.filter((n) => n.endsWith('.lock') && lockHeldElsewhere(join(root, n)));
  res.bytes = await sizeBelow(root);
  if (live.length === 0) {
    res.paths.push(root);
    if (!dryRun) await rm(root, { recursive: true, force: true }).catch((err: unknown) => res.errors.push(`${root}: ${errorMessage(err)}`));
    return res;
  }
  for (const n of names) {
    if (live.includes(n)) continue;
    const path = join(root, n);
    res.paths.push(path);
    if (!dryRun) await rm(path, { recursive: true, force: true }).catch((err: unknown) => res.errors.push(`${path}: ${errorMessage(err)}`));
  }
  return res;
}

/** Bytes of the regular files below `dir`, links not followed. */
async function sizeBelow(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await sizeBelow(path);
    else if (e.isFile()) total += (await lstat(path).catch(() => undefined))?.size ?? 0;
  }
  return total;
}
