import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/doctor/index.js';
import { runDevsup } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { CACHE_TAG, MAIN_PY, MS, NS, importedValue, makeStaleTrap } from '../doctor/python.js';
import { waitFor } from '../helpers/wait.js';
import { IDLE_JS, killAll, pastStart, startReady, type Started } from './project.js';

interface DoctorJson {
  findings: Finding[];
  staleProcesses: { pid: number; verdict: string; changedFiles: { path: string }[] }[];
}

describe('devsup doctor', () => {
  it('reports a real stale-bytecode trap with its file, evidence and fix, and exits 1', async () => {
    const dir = tempDir('devsup-doctor-trap-');
    const { pyc } = makeStaleTrap(dir);
    // The trap is real: Python runs the old value although the source says otherwise.
    expect(importedValue(dir)).toBe('mod.X = aaa');

    const r = await runDevsup(['doctor'], dir);
    expect(r.code).toBe(1);
    const rel = relative(dir, pyc);
    expect(r.stdout).toContain(`HAZARD  stale-bytecode  ${rel}\n  evidence: mod.py was last changed (ctime) `);
    expect(r.stdout).toMatch(/\n {2}fix: rm -r .*__pycache__/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 hazard found');

    const json = await runDevsup(['doctor', '--json', dir], tempDir());
    expect(json.code).toBe(1);
    const doc = JSON.parse(json.stdout) as DoctorJson;
    expect(doc.findings.map((f) => [f.check, f.severity, f.file])).toEqual([['stale-bytecode', 'hazard', pyc]]);
    expect(doc.staleProcesses).toEqual([]);
  });

  it('reports the trap left by an edit whose mtime was put back with touch -d, naming the file, and exits 1', async () => {
    const dir = tempDir('devsup-doctor-touchd-');
    writeTree(dir, { 'main.py': MAIN_PY, 'mod.py': 'X = "aaa"\n' });
    // Python writes the bytecode itself, on import, as it would in any project.
    execFileSync('python3', ['main.py'], { cwd: dir, env: { ...process.env, PYTHONDONTWRITEBYTECODE: undefined, PYTHONPYCACHEPREFIX: undefined } });
    const pyc = join(dir, '__pycache__', `mod.${CACHE_TAG}.pyc`);
    const { mtimeNs } = statSync(join(dir, 'mod.py'), { bigint: true });
    await waitFor(() => BigInt(Date.now()) * MS > statSync(pyc, { bigint: true }).ctimeNs + 30n * MS, 'a moment past the compile');
    writeFileSync(join(dir, 'mod.py'), 'X = "bbb"\n');
    execFileSync('touch', ['-d', `@${mtimeNs / NS}.${String(mtimeNs % NS).padStart(9, '0')}`, join(dir, 'mod.py')]);
    expect(importedValue(dir)).toBe('mod.X = aaa');

    const r = await runDevsup(['doctor'], dir);
    expect(r.code).toBe(1);
    const rel = relative(dir, pyc);
    expect(r.stdout).toMatch(
      new RegExp(`HAZARD  stale-bytecode  ${rel.replaceAll('.', '\\.')}\n  evidence: mod\\.py was last changed \\(ctime\\) \\S+Z, \\S+ \\S+ after this \\.pyc was written \\(\\S+Z\\), yet it still matches`),
    );
    expect(r.stdout).toContain(`  fix: rm -r ${join(dir, '__pycache__')}`);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 hazard found');
  });

  it('exits 0 with "no hazards found" on a clean tree', async () => {
    const dir = tempDir('devsup-doctor-clean-');
    writeTree(dir, { 'app.py': 'print(1)\n', 'src/index.ts': 'export {};\n', 'package.json': '{}\n' });
    const r = await runDevsup(['doctor'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('no hazards found');
    const json = await runDevsup(['doctor', '--json'], dir);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ findings: [], staleProcesses: [] });
  });

  it('counts a stale process of the project as a hazard, from the same scan as ps', async () => {
    const dir = tempDir('devsup-doctor-proc-');
    writeTree(dir, { 'server.js': IDLE_JS, 'lib.ts': 'export const a = 1;\n' });
    let p: Started | undefined;
    try {
      p = await startReady([process.execPath, 'server.js'], dir);
      await pastStart(p);
      writeFileSync(join(dir, 'lib.ts'), 'export const a = 2;\n');

      const r = await runDevsup(['doctor'], dir);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`HAZARD  stale-process  pid ${p.id.pid}  `);
      expect(r.stdout).toMatch(/evidence: started .*; lib\.ts changed \S+ after start \(ctime only: .*\): it still runs the code from before/);

      const json = await runDevsup(['doctor', '--json'], dir);
      const doc = JSON.parse(json.stdout) as DoctorJson;
      expect(json.code).toBe(1);
      expect(doc.findings).toEqual([]);
      expect(doc.staleProcesses.map((s) => [s.pid, s.verdict, s.changedFiles.map((f) => f.path)])).toEqual([
        [p.id.pid, 'stale', ['lib.ts']],
      ]);
    } finally {
      await killAll(p);
    }
  });

  it('rejects a directory that does not exist', async () => {
    const r = await runDevsup(['doctor', 'nope'], tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('devsup: directory does not exist: nope');
  });
});
