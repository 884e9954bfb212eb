import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/doctor/index.js';
import { runDevsup } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { importedValue, makeStaleTrap } from '../doctor/python.js';
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
