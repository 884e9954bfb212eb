import { open, stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gate } from '../caches/gate.js';
import { checkFutureMtimes } from './future-mtime.js';
import { shq } from './shell.js';
import { formatDuration, isoFromNs } from './time.js';
import type { Finding, Severity } from './types.js';
import { listTree, type SkipDir } from './walk.js';

export type PycHeader =
  | { kind: 'timestamp'; magic: number; flags: number; mtime: number; size: number }
  | { kind: 'hash'; magic: number; flags: number; checkSource: boolean; hash: Buffer };

const HEADER_BYTES = 16;
// Python 3.7a4: the first magic with PEP 552's flags word. Older layouts are not parsed.
const PEP552_MAGIC = 3392;
const FLAG_HASH_BASED = 1;
const FLAG_CHECK_SOURCE = 2;
const NS_PER_S = 1_000_000_000n;
// Each header read holds a descriptor; a tree with thousands of .pyc files would hit EMFILE.
const pycGate = gate(32);

/** The 16-byte PEP 552 header, or undefined when the bytes are not one. */
export function parsePycHeader(buf: Buffer): PycHeader | undefined {
  if (buf.length < HEADER_BYTES || buf[2] !== 0x0d || buf[3] !== 0x0a) return undefined;
  const magic = buf.readUInt16LE(0);
  if (magic < PEP552_MAGIC) return undefined;
  const flags = buf.readUInt32LE(4);
  if (flags & FLAG_HASH_BASED) {
    const hash = Buffer.from(buf.subarray(8, 16));
    return { kind: 'hash', magic, flags, checkSource: (flags & FLAG_CHECK_SOURCE) !== 0, hash };
  }
  return { kind: 'timestamp', magic, flags, mtime: buf.readUInt32LE(8), size: buf.readUInt32LE(12) };
}

export async function readPycHeader(path: string): Promise<PycHeader | undefined> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEADER_BYTES, 0);
    return parsePycHeader(buf.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/**
 * The whole-second mtime as Python computes it: `int(st_mtime)`, where st_mtime is the double
 * `sec + nsec * 1e-9`. That rounds x.999999999 up to the next second, which plain integer
 * division would not, so the header comparison must go through the same double.
 */
export function pythonMtimeSeconds(mtimeNs: bigint): number {
  const sec = mtimeNs / NS_PER_S;
  const nsec = mtimeNs % NS_PER_S;
  return Math.trunc(Number(sec) + Number(nsec) * 1e-9) >>> 0;
}

export async function checkBytecode(root: string, skipDir?: SkipDir): Promise<Finding[]> {
  return checkFiles((await listTree([root], skipDir)).files);
}

/** The per-file checks over an existing listing, so a caller that walked the tree already need not walk it again. */
export async function checkFiles(files: readonly string[]): Promise<Finding[]> {
  const pycs = files.filter(isCachedBytecode);
  const [fromPycs, future] = await Promise.all([
    Promise.all(pycs.map((pyc) => pycGate(() => checkPyc(pyc)))),
    checkFutureMtimes(files),
  ]);
  const findings = [...fromPycs.filter((f): f is Finding => f !== undefined), ...future];
  return findings.sort((a, b) => (a.file ?? '').localeCompare(b.file ?? '') || a.check.localeCompare(b.check));
}

function isCachedBytecode(path: string): boolean {
  return path.endsWith('.pyc') && basename(dirname(path)) === '__pycache__';
}

async function statOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await stat(path, { bigint: true });
  } catch {
    return undefined;
  }
}

async function checkPyc(pyc: string): Promise<Finding | undefined> {
  // PEP 3147 names: <module>.<tag>.pyc or <module>.<tag>.opt-N.pyc; Python reads no others.
  const parts = basename(pyc).split('.');
  if (parts.length < 3) return undefined;
  const source = join(dirname(dirname(pyc)), `${parts[0]}.py`);
  const [src, own] = await Promise.all([statOrUndefined(source), statOrUndefined(pyc)]);
  if (!own) return undefined;
  if (!src?.isFile()) {
    return {
      check: 'orphan-bytecode',
      severity: 'info',
      file: pyc,
      evidence: `${basename(source)} is gone: Python never imports a .pyc from __pycache__ without its source, but it is litter that tools scanning the tree still pick up`,
      fix: `rm ${shq(pyc)}`,
    };
  }
  const header = await readPycHeader(pyc).catch(() => undefined);
  return header && judge(pyc, source, header, src, own);
}

/** Python's own acceptance test, then what the nanosecond mtimes say about whether it is fooled. */
function judge(pyc: string, source: string, header: PycHeader, src: BigIntStats, own: BigIntStats): Finding | undefined {
  const srcName = basename(source);
  const stale = (severity: Severity, evidence: string, fix?: string): Finding => ({
    check: 'stale-bytecode',
    severity,
    file: pyc,
    evidence,
    fix:
      fix ??
      `rm -r ${shq(dirname(pyc))} (or touch ${shq(source)}); running Python with PYTHONPYCACHEPREFIX set makes it ignore __pycache__ altogether, and devsup run does this for you`,
  });
  if (header.kind === 'hash') {
    if (header.checkSource) return undefined; // Python hashes the source on every import
    return stale(
      'info',
      `unchecked hash-based .pyc: Python loads it without looking at ${srcName}, so edits to it are ignored until it is recompiled`,
      `rm ${shq(pyc)}, or recompile with python3 -m compileall --invalidation-mode checked-hash`,
    );
  }
  const matches = header.mtime === pythonMtimeSeconds(src.mtimeNs) && header.size === Number(src.size & 0xffffffffn);
  if (!matches) return undefined; // Python sees the mismatch and recompiles
  const recorded = `the mtime (${header.mtime}, ${isoFromNs(BigInt(header.mtime) * NS_PER_S)}) and size (${header.size} bytes) recorded in this .pyc`;
  const delta = src.mtimeNs - own.mtimeNs;
  if (delta > 0n) {
    return stale(
      'hazard',
      `${srcName} still matches ${recorded}, but it was modified ${formatDuration(delta)} after the .pyc was written: an import runs the old bytecode`,
    );
  }
  if (delta === 0n) {
    return stale(
      'info',
      `inconclusive: ${srcName} matches ${recorded}, and both files have the same mtime (${isoFromNs(own.mtimeNs)}), as on a filesystem with coarse timestamps; an edit within that tick after compiling would run the old bytecode`,
    );
  }
  if (src.mtimeNs % NS_PER_S === 0n && own.mtimeNs % NS_PER_S !== 0n) {
    return stale(
      'info',
      `cannot be verified: ${srcName} matches ${recorded} and is older than the .pyc, but its mtime is a whole second while the .pyc's is not, a sign it was set by something that restores mtimes (tar, rsync -t, cp -p, touch -d); an edit restored that way is invisible to Python`,
    );
  }
  return undefined;
}
