import { open, stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gate } from '../caches/gate.js';
import { checkFutureMtimes } from './future-mtime.js';
import { shq } from './shell.js';
import { formatDuration, isoFromNs } from './time.js';
import type { Finding, Severity } from './types.js';
import { listTree, type SkipDir } from './walk.js';
import { SavedContent, type ContentAnswer } from '../stale/saved-content.js';

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

/** What can tell whether a source still has the content it had at a given time: devsup's saved index. */
export interface ContentWitness {
  compare(path: string, beforeMs: number): Promise<ContentAnswer>;
}

/** No index: only timestamps speak. */
const NO_WITNESS: ContentWitness = { compare: async () => ({ kind: 'unknown' }) };

export async function checkBytecode(root: string, skipDir?: SkipDir, witness?: ContentWitness): Promise<Finding[]> {
  return checkFiles((await listTree([root], skipDir)).files, witness ?? SavedContent.find(root));
}

/** The per-file checks over an existing listing, so a caller that walked the tree already need not walk it again. */
export async function checkFiles(files: readonly string[], witness: ContentWitness = NO_WITNESS): Promise<Finding[]> {
  const pycs = files.filter(isCachedBytecode);
  const [fromPycs, future] = await Promise.all([
    Promise.all(pycs.map((pyc) => pycGate(() => checkPyc(pyc, witness)))),
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

async function checkPyc(pyc: string, witness: ContentWitness): Promise<Finding | undefined> {
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
  return header && judge(pyc, source, header, src, own, witness);
}

/**
 * Python's own acceptance test first: a timestamp .pyc is run when its header holds the source's
 * whole-second mtime and size. Then whether the source changed after the .pyc was written, by the
 * source's ctime, which every write and every utime() (touch -d, tar, cp -p) moves to the present,
 * against the .pyc's: its ctime bounds the write from above, its mtime is the write unless something
 * set it since. Where a ctime says "changed", devsup's saved index, if it knew the source from
 * before, says whether the content really differs (a touch is not an edit).
 */
async function judge(
  pyc: string,
  source: string,
  header: PycHeader,
  src: BigIntStats,
  own: BigIntStats,
  witness: ContentWitness,
): Promise<Finding | undefined> {
  const srcName = basename(source);
  const fix = `rm -r ${shq(dirname(pyc))} (or touch ${shq(source)}); running Python with PYTHONPYCACHEPREFIX set makes it ignore __pycache__ altogether, and devsup run does this for you`;
  const stale = (severity: Severity, evidence: string, fixText = fix): Finding => ({ check: 'stale-bytecode', severity, file: pyc, evidence, fix: fixText });
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
  // The write itself: no later than the .pyc's ctime, and at its mtime unless that was set since.
  const writtenNs = own.mtimeNs < own.ctimeNs ? own.mtimeNs : own.ctimeNs;
  if (src.ctimeNs <= writtenNs) {
    if (src.ctimeNs === own.ctimeNs && src.ctimeNs % NS_PER_S === 0n) {
      return stale(
        'info',
        `inconclusive: ${srcName} matches ${recorded}, and it and the .pyc were both last changed at ${isoFromNs(own.ctimeNs)}, as on a filesystem with coarse timestamps; an edit within that tick after compiling would run the old bytecode`,
      );
    }
    return undefined; // not changed since the .pyc was written
  }
  const content = await witness.compare(source, Number(writtenNs / 1_000_000n));
  if (content.kind === 'same') return undefined; // touched, or its mtime set, but the content is what was compiled
  const times = `${srcName} was last changed (ctime) ${isoFromNs(src.ctimeNs)}, ${formatDuration(src.ctimeNs - writtenNs)} after this .pyc was written (${isoFromNs(writtenNs)})`;
  // The index proves a change when it was saved after the write: the content then was the compiled one.
  const proven = content.kind === 'differs' && BigInt(Math.round(content.savedAtMs * 1e6)) >= writtenNs;
  const known =
    content.kind === 'differs'
      ? proven
        ? `; its content differs from devsup's index of it from when the .pyc was written`
        : `; its content differs from devsup's index (saved before the .pyc was written)`
      : '';
  // Below the .pyc's own ctime the write is certain; between its mtime and ctime only the index can tell,
  // since something set the .pyc's times after it was written (a copy keeping times, a touch).
  if (src.ctimeNs > own.ctimeNs || proven) {
    return stale('hazard', `${times}${known}, yet it still matches ${recorded}: Python runs this bytecode, compiled from other content`);
  }
  return stale(
    'info',
    `cannot be verified: ${srcName} matches ${recorded}; it was last changed (ctime) ${isoFromNs(src.ctimeNs)}, after the .pyc's mtime (${isoFromNs(own.mtimeNs)}) but before its ctime (${isoFromNs(own.ctimeNs)}), so the .pyc's times were set after it was written (a copy keeping times, a touch) and neither they nor an index of devsup's tell whether ${srcName} changed after compiling`,
  );
}
