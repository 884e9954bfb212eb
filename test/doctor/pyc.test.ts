import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBytecode, parsePycHeader, readPycHeader } from '../../src/doctor/pyc.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { saveProjectIndex } from '../inspect/project.js';
import {
  MAIN_PY,
  MS,
  NS,
  importedValue,
  makeStaleTrap,
  pastSecond,
  pyCompile,
  pythonStatus,
  setMtimeNs,
} from './python.js';

/** Source stamped `compiledAt` and compiled, the .pyc restamped `pycAt`, then the source rewritten with the same size and stamped `editAt`. */
function sameSizeEdit(dir: string, opts: { compiledAt: bigint; pycAt?: bigint; editAt: bigint; mode?: 'CHECKED_HASH' | 'UNCHECKED_HASH' }) {
  const source = join(dir, 'mod.py');
  writeTree(dir, { 'main.py': MAIN_PY, 'mod.py': 'X = "aaa"\n' });
  setMtimeNs(source, opts.compiledAt);
  const pyc = pyCompile(dir, 'mod.py', opts.mode);
  if (opts.pycAt !== undefined) setMtimeNs(pyc, opts.pycAt);
  writeFileSync(source, 'X = "bbb"\n');
  setMtimeNs(source, opts.editAt);
  return { source, pyc };
}

describe('parsePycHeader', () => {
  it('reads mtime and size from a real timestamp-based pyc', async () => {
    const dir = tempDir();
    writeTree(dir, { 'mod.py': 'X = "aaa"\n' });
    const t = pastSecond();
    setMtimeNs(join(dir, 'mod.py'), t + 250n * MS);
    const header = await readPycHeader(pyCompile(dir, 'mod.py'));
    expect(header).toMatchObject({ kind: 'timestamp', flags: 0, mtime: Number(t / NS), size: 10 });
    expect(header!.magic).toBeGreaterThanOrEqual(3392);
  });

  it('tells checked from unchecked hash-based pycs', async () => {
    const dir = tempDir();
    writeTree(dir, { 'a.py': 'A = 1\n', 'b.py': 'B = 1\n' });
    expect(await readPycHeader(pyCompile(dir, 'a.py', 'CHECKED_HASH'))).toMatchObject({ kind: 'hash', flags: 3, checkSource: true });
    expect(await readPycHeader(pyCompile(dir, 'b.py', 'UNCHECKED_HASH'))).toMatchObject({ kind: 'hash', flags: 1, checkSource: false });
  });

  it('rejects what is not a PEP 552 header', () => {
    const good = Buffer.from('a70d0d0a000000000000000000000000', 'hex');
    expect(parsePycHeader(good)).toMatchObject({ kind: 'timestamp', magic: 3495 });
    expect(parsePycHeader(good.subarray(0, 15))).toBeUndefined();
    const noCrLf = Buffer.from(good);
    noCrLf[3] = 0x00;
    expect(parsePycHeader(noCrLf)).toBeUndefined();
    const py36 = Buffer.from(good);
    py36.writeUInt16LE(3379, 0); // 12-byte header without flags
    expect(parsePycHeader(py36)).toBeUndefined();
  });
});

describe('stale-bytecode', () => {
  it('reports a same-size edit in the same second after the pyc, which python really runs stale', async () => {
    const dir = tempDir();
    const { pyc } = makeStaleTrap(dir);
    expect(readFileSync(join(dir, 'mod.py'), 'utf8')).toBe('X = "bbb"\n');
    expect(importedValue(dir)).toBe('mod.X = aaa');

    const findings = await checkBytecode(dir);
    expect(findings).toEqual([expect.objectContaining({ check: 'stale-bytecode', severity: 'hazard', file: pyc })]);
    expect(findings[0]!.evidence).toMatch(/^mod\.py was last changed \(ctime\) \S+Z, [\d.]+ s after this \.pyc was written \(\S+Z\), yet it still matches .* \(10 bytes\)/);
    expect(findings[0]!.fix).toMatch(/rm -r .*__pycache__.*PYTHONPYCACHEPREFIX.*devsup run/);
  });

  it('reports the trap made in real time, within one wall-clock second', async () => {
    const dir = tempDir();
    writeTree(dir, { 'main.py': MAIN_PY });
    const source = join(dir, 'mod.py');
    let pyc = '';
    let caught = false;
    for (let attempt = 0; attempt < 5 && !caught; attempt++) {
      const frac = Date.now() % 1000;
      if (frac > 300) await new Promise((r) => setTimeout(r, 1020 - frac));
      writeFileSync(source, 'X = "aaa"\n');
      const first = statSync(source, { bigint: true }).mtimeNs;
      pyc = pyCompile(dir, 'mod.py');
      writeFileSync(source, 'X = "bbb"\n');
      const edited = statSync(source, { bigint: true }).mtimeNs;
      caught = first / NS === edited / NS && edited > statSync(pyc, { bigint: true }).mtimeNs;
    }
    expect(caught, 'compile and edit landed in one second').toBe(true);
    expect(importedValue(dir)).toBe('mod.X = aaa');
    expect(await checkBytecode(dir)).toEqual([expect.objectContaining({ check: 'stale-bytecode', severity: 'hazard', file: pyc })]);
  });

  it('compares seconds the way Python does, which rounds x.999999999 up', async () => {
    const dir = tempDir();
    const t = pastSecond();
    // Integer division says second T, Python says T+1; the .pyc (T+0.5 s) is older than the edit.
    const { pyc } = sameSizeEdit(dir, { compiledAt: t + NS - 1n, pycAt: t + 500n * MS, editAt: t + NS - 1n });
    expect(await readPycHeader(pyc)).toMatchObject({ mtime: Number(t / NS) + 1 });
    expect(importedValue(dir)).toBe('mod.X = aaa');
    expect(await checkBytecode(dir)).toEqual([expect.objectContaining({ check: 'stale-bytecode', severity: 'hazard', file: pyc })]);
  });

  it('reports nothing once the pyc is recompiled, or after an edit that changes the size', async () => {
    const dir = tempDir();
    const { source, pyc } = makeStaleTrap(dir);
    pyCompile(dir, 'mod.py');
    expect(importedValue(dir)).toBe('mod.X = bbb');
    expect(await checkBytecode(dir)).toEqual([]);

    // Same second again, after the .pyc, but 11 bytes instead of 10: the header no longer matches.
    const t = statSync(source, { bigint: true }).mtimeNs;
    setMtimeNs(pyc, t + 1n);
    writeFileSync(source, 'X = "cccc"\n');
    setMtimeNs(source, t + 2n);
    expect(importedValue(dir)).toBe('mod.X = cccc');
    expect(await checkBytecode(dir)).toEqual([]);
  });

  it('does not report a checked hash-based pyc, which python rechecks against the source', async () => {
    const dir = tempDir();
    const t = pastSecond();
    sameSizeEdit(dir, { compiledAt: t + 100n * MS, pycAt: t + 200n * MS, editAt: t + 300n * MS, mode: 'CHECKED_HASH' });
    expect(importedValue(dir)).toBe('mod.X = bbb');
    expect(await checkBytecode(dir)).toEqual([]);
  });

  it('notes an unchecked hash-based pyc, which python runs whatever the source says', async () => {
    const dir = tempDir();
    const t = pastSecond();
    const { pyc } = sameSizeEdit(dir, { compiledAt: t + 100n * MS, editAt: t + 300n * MS, mode: 'UNCHECKED_HASH' });
    expect(importedValue(dir)).toBe('mod.X = aaa');
    const findings = await checkBytecode(dir);
    expect(findings).toEqual([expect.objectContaining({ check: 'stale-bytecode', severity: 'info', file: pyc })]);
    expect(findings[0]!.evidence).toMatch(/unchecked hash-based/);
  });

  it('reports an edit whose mtime equals the one compiled: only the ctime shows it came after', async () => {
    const dir = tempDir();
    const at = pastSecond() + 100n * MS;
    const { pyc } = sameSizeEdit(dir, { compiledAt: at, pycAt: at, editAt: at });
    expect(importedValue(dir)).toBe('mod.X = aaa');
    const findings = await checkBytecode(dir);
    expect(findings).toEqual([expect.objectContaining({ check: 'stale-bytecode', severity: 'hazard', file: pyc })]);
  });

  it('reports an edit whose whole-second mtime was put back (touch -d, tar, cp -p), which python runs stale', async () => {
    const dir = tempDir();
    const t = pastSecond();
    const { pyc } = sameSizeEdit(dir, { compiledAt: t, pycAt: t + 700n * MS, editAt: t });
    expect(importedValue(dir)).toBe('mod.X = aaa');
    const findings = await checkBytecode(dir);
    expect(findings).toEqual([expect.objectContaining({ check: 'stale-bytecode', severity: 'hazard', file: pyc })]);

    // The .pyc's own times set afterwards: its ctime no longer dates its write, and nothing else can.
    setMtimeNs(pyc, t + NS);
    expect(importedValue(dir)).toBe('mod.X = aaa');
    const later = await checkBytecode(dir);
    expect(later).toEqual([expect.objectContaining({ check: 'stale-bytecode', severity: 'info', file: pyc })]);
    expect(later[0]!.evidence).toMatch(/^cannot be verified: mod\.py matches .*after the \.pyc's mtime .* but before its ctime/);
  });

  it("clears a source that was only touched back to its compiled mtime when devsup's index knows its content", async () => {
    const dir = tempDir();
    writeTree(dir, { 'main.py': MAIN_PY, 'mod.py': 'X = "aaa"\n' });
    const pyc = pyCompile(dir, 'mod.py');
    const mtime = statSync(join(dir, 'mod.py'), { bigint: true }).mtimeNs;
    await saveProjectIndex(dir, ['mod.py']);
    // Same content, same mtime, but the ctime moved past the .pyc's: a timestamp-only change.
    await waitFor(() => BigInt(Date.now()) * MS > statSync(pyc, { bigint: true }).ctimeNs + 20n * MS, 'time past the compile');
    setMtimeNs(join(dir, 'mod.py'), mtime);
    expect(await checkBytecode(dir)).toEqual([]);

    // Without the index the same change can only be reported from the ctimes.
    rmSync(join(dir, '.devsup'), { recursive: true });
    expect(await checkBytecode(dir)).toEqual([expect.objectContaining({ check: 'stale-bytecode', severity: 'hazard', file: pyc })]);

    // An index that knew the content the .pyc was compiled from proves an edit by content.
    writeFileSync(join(dir, 'mod.py'), 'X = "aaa"\n');
    setMtimeNs(join(dir, 'mod.py'), mtime);
    pyCompile(dir, 'mod.py');
    await saveProjectIndex(dir, ['mod.py']);
    writeFileSync(join(dir, 'mod.py'), 'X = "bbb"\n');
    setMtimeNs(join(dir, 'mod.py'), mtime);
    expect(await readPycHeader(pyc)).toMatchObject({ kind: 'timestamp', mtime: Number(mtime / NS) });
    expect(importedValue(dir)).toBe('mod.X = aaa');
    const proven = await checkBytecode(dir);
    expect(proven).toEqual([expect.objectContaining({ severity: 'hazard', file: pyc })]);
    expect(proven[0]!.evidence).toMatch(/content differs from devsup's index of it from when the \.pyc was written/);
  });
});

describe('orphan-bytecode', () => {
  it('reports a pyc whose source is gone, which python will not import', async () => {
    const dir = tempDir();
    writeTree(dir, { 'gone.py': 'G = 1\n', 'kept.py': 'K = 1\n' });
    const orphan = pyCompile(dir, 'gone.py');
    pyCompile(dir, 'kept.py');
    rmSync(join(dir, 'gone.py'));
    expect(pythonStatus(dir, ['-c', 'import gone'])).toMatchObject({ status: 1, output: expect.stringMatching(/ModuleNotFoundError/) });
    const findings = await checkBytecode(dir);
    expect(findings).toEqual([expect.objectContaining({ check: 'orphan-bytecode', severity: 'info', file: orphan })]);
    expect(findings[0]!.fix).toBe(`rm ${orphan}`);
  });
});

describe('future-mtime', () => {
  it('reports source files more than 2 s ahead of the clock, and nothing else', async () => {
    const dir = tempDir();
    writeTree(dir, { 'a.ts': '', 'b.py': '', 'c.txt': '', 'd.js': '', 'sub/e.tsx': '' });
    const now = BigInt(Date.now()) * MS;
    for (const f of ['a.ts', 'c.txt', 'sub/e.tsx']) setMtimeNs(join(dir, f), now + 3600n * NS);
    setMtimeNs(join(dir, 'd.js'), now + 1n * NS);
    const findings = await checkBytecode(dir);
    expect(findings.map((f) => [f.check, f.severity, f.file])).toEqual([
      ['future-mtime', 'hazard', join(dir, 'a.ts')],
      ['future-mtime', 'hazard', join(dir, 'sub/e.tsx')],
    ]);
    expect(findings[0]!.evidence).toMatch(/in the future/);
    expect(findings[0]!.fix).toBe(`touch ${join(dir, 'a.ts')} to give it the current time, then fix the clock that wrote it (see clock-skew)`);
  });
});

describe('skipped directories', () => {
  it('leaves out .git, node_modules, .venv and venv unless told otherwise', async () => {
    const dir = tempDir();
    for (const sub of ['.git', 'node_modules/pkg', '.venv/lib', 'venv', 'vendor']) {
      mkdirSync(join(dir, sub, '__pycache__'), { recursive: true });
      writeFileSync(join(dir, sub, '__pycache__', 'gone.cpython-311.pyc'), Buffer.alloc(16));
    }
    const files = (f: Awaited<ReturnType<typeof checkBytecode>>) => f.map((x) => x.file!.slice(dir.length + 1)).sort();
    expect(files(await checkBytecode(dir))).toEqual(['vendor/__pycache__/gone.cpython-311.pyc']);
    expect(files(await checkBytecode(dir, (name) => name === 'vendor'))).toHaveLength(4);
  });
});
