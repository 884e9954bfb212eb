import { readdirSync, readFileSync, utimesSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logDir, newRunId, saveRunLog } from '../../src/history/store.js';
import { tempDir } from '../helpers/tmp.js';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `run-${String(i).padStart(2, '0')}`);

describe('saveRunLog', () => {
  it('keeps the last 20 logs of a worker by default and returns the saved path', async () => {
    const stateDir = tempDir();
    let last = '';
    for (const id of ids(25)) last = await saveRunLog(stateDir, 'api', id, `output of ${id}\n`);
    expect(last).toBe(join(stateDir, 'logs', 'api', 'run-24.log'));
    expect(readFileSync(last, 'utf8')).toBe('output of run-24\n');
    expect(readdirSync(logDir(stateDir, 'api')).sort()).toEqual(ids(25).slice(5).map((id) => `${id}.log`));
  });

  it('prunes per worker, with a custom count', async () => {
    const stateDir = tempDir();
    for (const id of ids(6)) {
      await saveRunLog(stateDir, 'api', id, 'a', 3);
      await saveRunLog(stateDir, 'web', id, 'w', 2);
    }
    expect(readdirSync(logDir(stateDir, 'api')).sort()).toEqual(['run-03.log', 'run-04.log', 'run-05.log']);
    expect(readdirSync(logDir(stateDir, 'web')).sort()).toEqual(['run-04.log', 'run-05.log']);
  });

  it('orders by modification time before name, and never prunes the log just saved', async () => {
    const stateDir = tempDir();
    const dir = logDir(stateDir, 'api');
    await saveRunLog(stateDir, 'api', 'b-newer', 'x');
    await saveRunLog(stateDir, 'api', 'c-older', 'x');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'c-older.log'), old, old);
    // "a-current" sorts first by name, and may share an mtime tick with b-newer.
    await saveRunLog(stateDir, 'api', 'a-current', 'x', 2);
    expect(readdirSync(dir).sort()).toEqual(['a-current.log', 'b-newer.log']);
    await saveRunLog(stateDir, 'api', '0-current', 'x', 1);
    expect(readdirSync(dir)).toEqual(['0-current.log']);
  });

  it('keeps odd worker names and run ids inside logs/, one file each', async () => {
    const stateDir = tempDir();
    const names = ['../../escape', '..', '.hidden', 'a/b', 'a%2Fb', 'ünï cödé'];
    const paths = await Promise.all(names.map((w) => saveRunLog(stateDir, w, '../id/../x', w)));
    for (const [i, p] of paths.entries()) {
      const rel = relative(join(stateDir, 'logs'), p);
      expect(rel.startsWith('..')).toBe(false);
      expect(dirname(rel)).not.toContain('/');
      expect(readFileSync(p, 'utf8')).toBe(names[i]);
    }
    expect(new Set(paths).size).toBe(names.length);
    expect(readdirSync(join(stateDir, 'logs')).every((d) => !d.startsWith('.'))).toBe(true);
  });

  it('leaves no temp files behind and rejects keep < 1', async () => {
    const stateDir = tempDir();
    await saveRunLog(stateDir, 'api', 'r1', 'x');
    expect(readdirSync(logDir(stateDir, 'api'))).toEqual(['r1.log']);
    await expect(saveRunLog(stateDir, 'api', 'r2', 'x', 0)).rejects.toThrow(RangeError);
  });
});

describe('newRunId', () => {
  it('sorts by time as text and differs within the same millisecond', () => {
    const t = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
    const a = newRunId(t);
    expect(a).toMatch(/^20250102T030405678Z-[0-9a-f]{6}$/);
    expect(newRunId(t)).not.toBe(a);
    expect(newRunId(new Date(t.getTime() + 1)) > a).toBe(true);
  });
});
