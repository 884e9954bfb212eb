import { mkdirSync, readFileSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatFindings, runChecks, type Finding } from '../../src/doctor/index.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { MS, NS, makeStaleTrap, setMtimeNs } from './python.js';

const noWatchLimit = async () => undefined;
const localMounts = async () => '/dev/vda / ext4 rw 0 0\n';

describe('runChecks', () => {
  it('combines every check over the tree, hazards first', async () => {
    const dir = tempDir();
    const { pyc } = makeStaleTrap(dir);
    writeTree(dir, { 'sub/__pycache__/gone.cpython-311.pyc': '', 'web/app.ts': '', 'node_modules/x/y/z.js': '' });
    setMtimeNs(join(dir, 'web/app.ts'), BigInt(Date.now()) * MS + 3600n * NS);
    const real = realpathSync(dir);
    const findings = await runChecks([dir], {
      readWatchLimit: async () => 8,
      readMounts: async () => `/dev/vda / ext4 rw 0 0\nhost ${real} 9p rw 0 0\n`,
    });
    expect(findings.map((f) => [f.check, f.severity, f.file])).toEqual([
      ['stale-bytecode', 'hazard', pyc],
      ['future-mtime', 'hazard', join(dir, 'web/app.ts')],
      ['unreliable-fs', 'hazard', dir],
      ['orphan-bytecode', 'info', join(dir, 'sub/__pycache__/gone.cpython-311.pyc')],
      ['watch-limit', 'info', undefined],
    ]);
    // root, __pycache__, sub, sub/__pycache__, web; node_modules is skipped
    expect(findings.at(-1)!.evidence).toMatch(/^5 directories/);
    expect(readdirSync(dir).filter((n) => n.startsWith('.devsup'))).toEqual([]);
  });

  it('takes a directory count from the caller, and reports a file under nested roots once', async () => {
    const dir = tempDir();
    writeTree(dir, { 'a/__pycache__/gone.cpython-311.pyc': '' });
    const findings = await runChecks([dir, join(dir, 'a')], {
      dirCount: 3,
      readWatchLimit: async () => 4,
      readMounts: localMounts,
    });
    expect(findings.map((f) => f.check)).toEqual(['orphan-bytecode', 'watch-limit']);
    expect(findings[1]!.evidence).toMatch(/^3 directories/);
  });

  it('finds nothing in a clean tree', async () => {
    const dir = tempDir();
    writeTree(dir, { 'src/index.ts': 'export {};\n', 'app.py': 'print(1)\n' });
    expect(await runChecks([dir], { readWatchLimit: noWatchLimit, readMounts: localMounts })).toEqual([]);
  });

  it('reports links planted in .devsup without following or changing them', async () => {
    const dir = tempDir();
    const outside = join(tempDir(), 'precious');
    writeFileSync(outside, 'keep\n');
    writeTree(dir, { 'app.py': 'print(1)\n', '.devsup/logs/api/run-1.log': 'x\n' });
    symlinkSync(outside, join(dir, '.devsup/history.jsonl'));
    symlinkSync(tempDir(), join(dir, '.devsup/logs/web'));
    // Deeper than devsup names its own files: not looked at.
    mkdirSync(join(dir, '.devsup/pycache/api/usr/lib'), { recursive: true });
    symlinkSync(outside, join(dir, '.devsup/pycache/api/usr/lib/x.pyc'));
    const findings = await runChecks([dir], { readWatchLimit: noWatchLimit, readMounts: localMounts });
    expect(findings.map((f) => [f.check, f.severity, f.file]).sort()).toEqual([
      ['state-link', 'hazard', join(dir, '.devsup/history.jsonl')],
      ['state-link', 'hazard', join(dir, '.devsup/logs/web')],
    ]);
    expect(findings[0]!.evidence).toMatch(/symlink to \//);
    expect(readFileSync(outside, 'utf8')).toBe('keep\n');

    // .devsup itself a link: one finding for it, and nothing written where it points.
    const other = tempDir();
    const target = tempDir();
    symlinkSync(target, join(other, '.devsup'));
    const top = await runChecks([other], { readWatchLimit: noWatchLimit, readMounts: localMounts });
    expect(top.filter((f) => f.check === 'state-link').map((f) => f.file)).toEqual([join(other, '.devsup')]);
    expect(readdirSync(target)).toEqual([]);
  });

  it('uses the given skipDir instead of the defaults', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'node_modules/__pycache__'), { recursive: true });
    writeFileSync(join(dir, 'node_modules/__pycache__/gone.cpython-311.pyc'), '');
    const opts = { readWatchLimit: noWatchLimit, readMounts: localMounts };
    expect(await runChecks([dir], opts)).toEqual([]);
    expect(await runChecks([dir], { ...opts, skipDir: () => false })).toHaveLength(1);
  });
});

describe('formatFindings', () => {
  it('prints one block per finding: severity, check, file, evidence, fix', () => {
    const findings: Finding[] = [
      { check: 'stale-bytecode', severity: 'hazard', file: '/p/src/__pycache__/m.cpython-311.pyc', evidence: 'E1', fix: 'F1' },
      { check: 'watch-limit', severity: 'info', evidence: 'E2', fix: 'F2' },
      { check: 'clock-skew', severity: 'hazard', file: '/elsewhere', evidence: 'E3', fix: 'F3' },
    ];
    expect(formatFindings(findings, '/p')).toEqual([
      'HAZARD  stale-bytecode  src/__pycache__/m.cpython-311.pyc\n  evidence: E1\n  fix: F1',
      'info  watch-limit\n  evidence: E2\n  fix: F2',
      'HAZARD  clock-skew  /elsewhere\n  evidence: E3\n  fix: F3',
    ]);
    expect(formatFindings(findings.slice(0, 1))[0]).toContain('/p/src/__pycache__/m.cpython-311.pyc');
    expect(formatFindings([])).toEqual([]);
  });
});
