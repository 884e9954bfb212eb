import { rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDevsup } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { killAll, pastStart, saveProjectIndex, startReady, type Started } from './project.js';

interface FileJson {
  path: string;
  content: string;
  evidence: string;
}
interface Proc {
  pid: number;
  verdict: string;
  evidence: string | null;
  changedFiles: FileJson[];
  touchedFiles: FileJson[];
}

const APP_PY = 'import os, time\nprint("ready pid=%d" % os.getpid(), flush=True)\ntime.sleep(120)\n';
const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };

async function judged(root: string, p: Started): Promise<{ code: number | null; proc: Proc; text: string }> {
  const r = await runDevsup(['ps', '--json'], root);
  const proc = (JSON.parse(r.stdout) as { processes: Proc[] }).processes.find((x) => x.pid === p.id.pid);
  if (!proc) throw new Error(`pid ${p.id.pid} not listed:\n${r.stdout}`);
  const text = await runDevsup(['ps'], root);
  return { code: r.code, proc, text: text.stdout };
}

/** Waits until a change made now gets a ctime well past the previous one of `file`. */
async function pastCtime(file: string): Promise<void> {
  const before = statSync(file).ctimeMs;
  await waitFor(() => Date.now() > before + 30, `a moment past the last change of ${file}`);
}

describe('devsup ps: which change counts', () => {
  it('keeps a python process fresh after `touch` when devsup\'s index knows the content, and says so', async () => {
    const root = tempDir('devsup-ps-touch-');
    writeTree(root, { 'migrate.py': APP_PY, 'helper.py': 'X = 1\n' });
    await saveProjectIndex(root, ['migrate.py', 'helper.py']);
    let py: Started | undefined;
    try {
      py = await startReady(['python3', 'migrate.py'], root, env);
      await pastStart(py);
      const now = Date.now() / 1000;
      utimesSync(join(root, 'migrate.py'), now, now);
      const { code, proc, text } = await judged(root, py);
      expect(code).toBe(0);
      expect(proc).toMatchObject({ verdict: 'fresh', evidence: 'content', changedFiles: [] });
      expect(proc.touchedFiles.map((f) => [f.path, f.content])).toEqual([['migrate.py', 'same']]);
      expect(text).toMatch(new RegExp(`^${py.id.pid} .*\\sfresh\\s+content\\s+python\\s`, 'm'));
      expect(text).toContain("touched after start, content unchanged (devsup's index): migrate.py");

      // A real edit of another file it can have loaded, against the same index: stale, by content.
      writeFileSync(join(root, 'helper.py'), 'X = 2\n');
      const edited = await judged(root, py);
      expect(edited.code).toBe(1);
      expect(edited.proc.verdict).toBe('stale');
      expect(edited.proc.changedFiles.map((f) => [f.path, f.content])).toEqual([['helper.py', 'differs']]);
    } finally {
      await killAll(py);
    }
  });

  it('without an index, reports a touch as what it is: a ctime-only change that cannot be told from an edit', async () => {
    const root = tempDir('devsup-ps-touch-noindex-');
    writeTree(root, { 'migrate.py': APP_PY });
    let py: Started | undefined;
    try {
      py = await startReady(['python3', 'migrate.py'], root, env);
      await pastStart(py);
      const now = Date.now() / 1000;
      utimesSync(join(root, 'migrate.py'), now, now);
      const { code, proc, text } = await judged(root, py);
      expect(code).toBe(1);
      expect(proc).toMatchObject({ verdict: 'stale', evidence: 'ctime' });
      expect(proc.changedFiles.map((f) => [f.path, f.content, f.evidence])).toEqual([['migrate.py', 'unknown', 'ctime']]);
      expect(text).toMatch(/migrate\.py changed \S+ after start \(ctime only: no saved content from before the start, so a touch would look the same\)/);
      expect(text).toMatch(/no devsup file index here .*changes are dated by ctime alone/);
    } finally {
      await killAll(py);
    }
  });

  it('calls stale an edit whose mtime was put back, by ctime alone and by content with an index', async () => {
    const root = tempDir('devsup-ps-restored-');
    writeTree(root, { 'migrate.py': APP_PY, 'conf.py': 'LIMIT = 10\n' });
    const conf = join(root, 'conf.py');
    const past = Date.now() / 1000 - 3600;
    utimesSync(conf, past, past);
    const { atime, mtime } = statSync(conf);
    let py: Started | undefined;
    try {
      py = await startReady(['python3', 'migrate.py'], root, env);
      // Saved after the start: what it holds is what the process found.
      await saveProjectIndex(root, ['migrate.py', 'conf.py']);
      await pastCtime(conf);
      writeFileSync(conf, 'LIMIT = 99\n'); // same size
      utimesSync(conf, atime, mtime); // as `touch -d`, `cp -p` or tar would leave it
      expect(statSync(conf).mtimeMs).toBeLessThan(py.startMs);

      const { code, proc } = await judged(root, py);
      expect(code).toBe(1);
      expect(proc).toMatchObject({ verdict: 'stale', evidence: 'content' });
      expect(proc.changedFiles.map((f) => [f.path, f.content, f.evidence])).toEqual([['conf.py', 'differs', 'content']]);

      // The same without any index: the ctime still dates the edit.
      rmSync(join(root, '.devsup'), { recursive: true });
      const bare = await judged(root, py);
      expect(bare.code).toBe(1);
      expect(bare.proc).toMatchObject({ verdict: 'stale', evidence: 'ctime' });
      expect(bare.proc.changedFiles.map((f) => f.path)).toEqual(['conf.py']);
    } finally {
      await killAll(py);
    }
  });
});
