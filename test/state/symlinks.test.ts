import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SavedSearch, searchMemoPath } from '../../src/caches/saved-search.js';
import { appendSession, readSessions } from '../../src/history/flake-sessions.js';
import { openBytecodePrefix } from '../../src/caches/pycache-prefix.js';
import { prunePycache } from '../../src/caches/pycache-prune.js';
import { acquireLock } from '../../src/control/lock.js';
import { recordChildren } from '../../src/control/children.js';
import { appendRun, saveRunLog, type RunRecord } from '../../src/history/store.js';
import { StateError, STATE_EXIT_CODE } from '../../src/state/errors.js';
import { keepOutOfGit, stateSubdir, writeFileAtomic } from '../../src/state/files.js';
import { controlPaths, findStateDir } from '../../src/state/paths.js';
import { indexPath, saveIndex } from '../../src/watch/index-file.js';
import { DevsupProcess } from '../helpers/devsup.js';
import { removeTempDirs, tempDir } from '../helpers/tmp.js';

afterAll(removeTempDirs);

/** Every file under `dir` with a hash of its content and its mtime: what "untouched" means. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out[`${p}/`] = String(st.mtimeMs);
        walk(p);
      } else {
        const body = st.isSymbolicLink() ? readlinkSync(p) : readFileSync(p);
        out[p] = `${createHash('sha1').update(body).digest('hex')} ${st.size} ${st.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

/** A project with `.devsup/`, and an outside directory with files that must survive. */
function setup(outsideFiles: Record<string, string> = { 'keep.txt': 'precious' }): { root: string; state: string; outside: string } {
  const root = tempDir('devsup-link-proj-');
  const outside = tempDir('devsup-link-outside-');
  const state = join(root, '.devsup');
  mkdirSync(state, { mode: 0o700 });
  for (const [rel, text] of Object.entries(outsideFiles)) {
    mkdirSync(join(outside, rel, '..'), { recursive: true });
    writeFileSync(join(outside, rel), text);
  }
  return { root, state, outside };
}

const record = (over: Partial<RunRecord> = {}): RunRecord => ({
  v: 1,
  worker: 'tests',
  generation: 1,
  codeId: '0123456789',
  changedFiles: [],
  startedAt: new Date().toISOString(),
  durationMs: 5,
  exitCode: 0,
  signal: null,
  result: 'passed',
  ...over,
});

async function refused(p: Promise<unknown>, path: string): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StateError);
  expect((err as StateError).exitCode).toBe(STATE_EXIT_CODE);
  expect((err as StateError).message).toContain(path);
  expect((err as StateError).message).toContain('symlink');
}

describe('links planted inside .devsup', () => {
  it('logs/ as a link: the run log is refused and no outside *.log is written or pruned', async () => {
    const logs: Record<string, string> = {};
    for (let i = 0; i < 25; i++) logs[`tests/old-${String(i).padStart(2, '0')}.log`] = `log ${i}`;
    const { state, outside } = setup(logs);
    symlinkSync(outside, join(state, 'logs'));
    const before = fingerprint(outside);
    await refused(saveRunLog(state, 'tests', 'run-1', 'output'), join(state, 'logs'));
    expect(fingerprint(outside)).toEqual(before);
  });

  it("a worker's log directory as a link: refused the same way", async () => {
    const logs: Record<string, string> = {};
    for (let i = 0; i < 25; i++) logs[`old-${i}.log`] = `log ${i}`;
    const { state, outside } = setup(logs);
    mkdirSync(join(state, 'logs'));
    symlinkSync(outside, join(state, 'logs', 'tests'));
    const before = fingerprint(outside);
    await refused(saveRunLog(state, 'tests', 'run-1', 'output'), join(state, 'logs', 'tests'));
    expect(fingerprint(outside)).toEqual(before);
  });

  it('a *.log link inside a real log directory is neither followed nor pruned', async () => {
    const { state, outside } = setup({ 'victim.log': 'not a devsup log' });
    const dir = join(state, 'logs', 'tests');
    mkdirSync(dir, { recursive: true });
    symlinkSync(join(outside, 'victim.log'), join(dir, '00000000-planted.log'));
    const before = fingerprint(outside);
    for (let i = 0; i < 4; i++) await saveRunLog(state, 'tests', `run-${i}`, `out ${i}`, 2);
    expect(fingerprint(outside)).toEqual(before);
    expect(lstatSync(join(dir, '00000000-planted.log')).isSymbolicLink()).toBe(true);
    // Pruning still works on what devsup wrote: the link plus the two newest logs remain.
    expect(readdirSync(dir).sort()).toEqual(['00000000-planted.log', 'run-2.log', 'run-3.log']);
  });

  it('pycache/ as a link: no bytecode directory is made outside and none there is pruned', async () => {
    const { root, state, outside } = setup({ 'w-api/mod.pyc': 'bytecode', 'flake/x.pyc': 'x', 'w-api.2/y.pyc': 'y' });
    symlinkSync(outside, join(state, 'pycache'));
    const before = fingerprint(outside);
    await refused(openBytecodePrefix(state, 'w-api', [root]), join(state, 'pycache'));
    expect(fingerprint(outside)).toEqual(before);
  });

  it('a worker directory planted as a link inside a real pycache/ is left alone by pruning', async () => {
    const { state, outside } = setup({ 'mod.pyc': 'x'.repeat(4096) });
    mkdirSync(join(state, 'pycache'));
    symlinkSync(outside, join(state, 'pycache', 'w-planted'));
    const before = fingerprint(outside);
    // A limit of one byte: everything devsup made would go, nothing behind the link may.
    await prunePycache(join(state, 'pycache'), 1);
    expect(fingerprint(outside)).toEqual(before);
    expect(readdirSync(join(state, 'pycache'))).toContain('w-planted');
  });

  it('index/ as a link: the index save writes nothing there and removes no *.tmp there', async () => {
    const { root, state, outside } = setup();
    const file = indexPath(state, [root]);
    const name = file.split('/').pop()!;
    writeFileSync(join(outside, `${name}.123.tmp`), 'someone else');
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(join(outside, `${name}.123.tmp`), old, old);
    symlinkSync(outside, join(state, 'index'));
    const before = fingerprint(outside);
    await expect(saveIndex(file, root, new Map(), (p) => p)).rejects.toThrow(/symlink/);
    expect(fingerprint(outside)).toEqual(before);
  });

  it("index/ as a link: the saved cache search is not written there either", async () => {
    const { root, state, outside } = setup();
    symlinkSync(outside, join(state, 'index'));
    const before = fingerprint(outside);
    const saved = new SavedSearch(searchMemoPath(state, [root], ['python'], []));
    saved.memo.set(root, { ctime: 1, steps: [] });
    saved.searched(3);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(fingerprint(outside)).toEqual(before);
  });

  it('history.jsonl as a link to a big outside file: not appended to, not copied', async () => {
    const big = 'x'.repeat(5 * 1024 * 1024);
    const { state, outside } = setup({ 'big.jsonl': big });
    symlinkSync(join(outside, 'big.jsonl'), join(state, 'history.jsonl'));
    const before = fingerprint(outside);
    await refused(appendRun(state, record(), { maxBytes: 1024 }), join(state, 'history.jsonl'));
    expect(fingerprint(outside)).toEqual(before);
    expect(lstatSync(join(state, 'history.jsonl')).isSymbolicLink()).toBe(true);
  });

  it('flake-sessions.jsonl as a link: the flake session record is not appended through it', async () => {
    const { state, outside } = setup({ 'sessions.jsonl': '{"kept":true}\n' });
    symlinkSync(join(outside, 'sessions.jsonl'), join(state, 'flake-sessions.jsonl'));
    const before = fingerprint(outside);
    const session = { v: 1 as const, id: 's1', key: 'flake ["x"]', label: 'x', codeId: 'c0ffee0000', startedAt: new Date().toISOString(), runs: 3, failed: 1 };
    await refused(appendSession(state, session), join(state, 'flake-sessions.jsonl'));
    // Nor read through it, where it would stand for sessions of this project.
    await refused(readSessions(state), join(state, 'flake-sessions.jsonl'));
    expect(fingerprint(outside)).toEqual(before);
  });

  it('.devsup itself as a link is refused and not found as a project', async () => {
    const { outside } = setup();
    const root = tempDir('devsup-link-proj-');
    symlinkSync(outside, join(root, '.devsup'));
    const before = fingerprint(outside);
    await refused(stateSubdir(join(root, '.devsup'), 'logs'), join(root, '.devsup'));
    await refused(appendRun(join(root, '.devsup'), record()), join(root, '.devsup'));
    // Not found here; a .devsup further up (in a shared /tmp) is someone else's business.
    expect(findStateDir(root)).not.toBe(join(root, '.devsup'));
    expect(fingerprint(outside)).toEqual(before);
  });

  it('a file devsup replaces atomically replaces the link, never writes through it', async () => {
    const { root, state, outside } = setup({ 'children.json': 'theirs' });
    const p = controlPaths(root);
    symlinkSync(join(outside, 'children.json'), p.children);
    symlinkSync(join(outside, 'ignored'), join(state, '.gitignore'));
    const before = fingerprint(outside);
    await writeFileAtomic(p.children, '{}\n');
    await keepOutOfGit(state);
    expect(fingerprint(outside)).toEqual(before);
    expect(readFileSync(p.children, 'utf8')).toBe('{}\n');
    expect(lstatSync(p.children).isFile()).toBe(true);
    expect(existsSync(join(outside, 'ignored'))).toBe(false);
    const rec = recordChildren({ subscribe: () => () => undefined } as never, root, 'default', { refreshMs: 0 });
    await rec.close();
  });
});

describe('a lock that is a dangling symlink', () => {
  it('is taken over at once by the supervisor lock, like any stale lock', async () => {
    const { root, outside } = setup();
    const p = controlPaths(root);
    symlinkSync(join(outside, 'nowhere'), p.lock);
    const t0 = Date.now();
    const lock = await acquireLock(p.lock, { socketPath: p.localSocket, root: p.root, name: p.name });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(lstatSync(p.lock).isFile()).toBe(true);
    expect(existsSync(join(outside, 'nowhere'))).toBe(false);
    await lock.release();
    expect(existsSync(p.lock)).toBe(false);
  });

  it('is taken over at once by the history lock, and the record is appended', async () => {
    const { state, outside } = setup();
    symlinkSync(join(outside, 'nowhere'), join(state, 'history.jsonl.lock'));
    symlinkSync(join(outside, 'nowhere-either'), join(state, 'history.jsonl.lock.break'));
    const t0 = Date.now();
    await appendRun(state, record(), { maxWaitMs: 5000 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(readFileSync(join(state, 'history.jsonl'), 'utf8')).toContain('"worker":"tests"');
    expect(readdirSync(outside)).toEqual(['keep.txt']);
  });
});

describe('flake with links planted in .devsup (the built CLI)', () => {
  const flake = async (cwd: string, command = ['node', '-e', 'process.exit(1)']): Promise<{ code: number | null; stderr: string }> => {
    const p = new DevsupProcess(['flake', '-n', '2', '-j', '1', '--', ...command], { cwd });
    p.proc.stdin!.end();
    const { code } = await p.exit;
    return { code, stderr: p.text('stderr') };
  };

  it('flake/ as a link: the failing runs are reported, their output is not saved there', async () => {
    const { root, state, outside } = setup();
    symlinkSync(outside, join(state, 'flake'));
    const before = fingerprint(outside);
    const r = await flake(root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`could not save the failing runs' output: ${join(state, 'flake')} is a symlink`);
    expect(fingerprint(outside)).toEqual(before);
  });

  it('pycache/ as a link: a Python command is refused before any run, with exit 73', async () => {
    const { root, state, outside } = setup({ 'flake-x/keep.pyc': 'x' });
    symlinkSync(outside, join(state, 'pycache'));
    const before = fingerprint(outside);
    const r = await flake(root, ['python3', '-c', 'import sys; sys.exit(1)']);
    expect(r.code).toBe(STATE_EXIT_CODE);
    expect(r.stderr).toContain(`${join(state, 'pycache')} is a symlink`);
    expect(fingerprint(outside)).toEqual(before);
  });
});
