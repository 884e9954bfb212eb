import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { compileWatch, runScript } from './compiled.js';
import { MODES, closeRigs, startRig } from './rig.js';

/** Long enough for any backend here to have reported a write (polling runs every 50 ms). */
const ABSENCE_MS = 300;

afterEach(closeRigs);

describe.each(MODES)('watcher ($name)', (mode) => {
  it('reports add, change and unlink of a file', async () => {
    const root = tempDir();
    const rig = await startRig([root], mode);
    const file = join(root, 'a.py');
    writeFileSync(file, 'one');
    await rig.waitEvent(['add', 'change'], file);
    rig.events.length = 0;
    writeFileSync(file, 'two, longer');
    await rig.waitEvent('change', file);
    unlinkSync(file);
    await rig.waitEvent('unlink', file);
    expect(rig.warnings).toEqual([]);
  });

  it('dates a change by the write, however long the backend held its event', async () => {
    const root = tempDir();
    const seen: { paths: string[]; lastAt: number; arrived: number }[] = [];
    const rig = await startRig([root], mode, {}, {
      onEvents: (events, lastAt) => seen.push({ paths: events.map((e) => e.path), lastAt, arrived: Date.now() }),
    });
    const batchWith = (p: string) => seen.find((b) => b.paths.includes(p));
    // parcel passes on the first event of a quiet spell at once and holds the ones that follow.
    const first = join(root, 'a.js');
    writeFileSync(first, 'one');
    await waitFor(() => batchWith(first), 'the first batch');
    await sleep(20);
    const second = join(root, 'b.js');
    const before = Date.now();
    writeFileSync(second, 'two');
    const after = Date.now();
    const { lastAt, arrived } = await waitFor(() => batchWith(second), 'the batch with the second file');
    expect(lastAt).toBeLessThanOrEqual(arrived);
    // The file's ctime says when it was written, however late parcel delivered the event.
    if (mode.backend === 'parcel') {
      expect(lastAt).toBeGreaterThanOrEqual(before - 15);
      expect(lastAt).toBeLessThanOrEqual(after + 15);
    }
    expect(rig.warnings).toEqual([]);
  });

  it('says nothing about ignored paths', async () => {
    const root = tempDir();
    writeTree(root, { '.gitignore': 'secret/\nlater/\n', 'secret/old.py': '', '.git/HEAD': '' });
    const rig = await startRig([root], mode, { ignore: ['*.log'] });
    writeTree(root, {
      'node_modules/pkg/index.js': '',
      'node_modules/pkg/deep/er/x.js': '',
      '.git/HEAD': 'ref',
      'out.log': '',
      'sub/deep/x.log': '',
      'secret/a.py': '',
      'later/b.py': '',
      '__pycache__/m.pyc': '',
      'dist/bundle.js': '',
    });
    const sentinel = join(root, 'sentinel.py');
    writeFileSync(sentinel, '');
    await rig.waitEvent(['add', 'change'], sentinel);
    // Proving absence needs a bounded wait: anything still in flight would arrive within it.
    await sleep(ABSENCE_MS);
    const ignored = /node_modules|\.git\/|\.log$|secret|later|__pycache__|dist/;
    expect(rig.events.filter((e) => ignored.test(e.path))).toEqual([]);
  });

  it('says nothing about the files an editor writes beside a source', async () => {
    const root = tempDir();
    writeTree(root, { 'app.py': 'one' });
    const rig = await startRig([root], mode);
    // What vim, emacs and JetBrains leave next to app.py while it is open and saved.
    const temps = ['.app.py.swp', '.app.py.swx', '4913', 'app.py~', '#app.py#', 'app.py___jb_tmp___', 'app.py___jb_old___'];
    for (const n of temps) writeFileSync(join(root, n), 'x');
    symlinkSync('user@host.1234', join(root, '.#app.py'));
    for (const n of temps) unlinkSync(join(root, n));
    const sentinel = join(root, 'sentinel.py');
    writeFileSync(sentinel, '');
    await rig.waitEvent(['add', 'change'], sentinel);
    await sleep(ABSENCE_MS);
    expect(rig.events.filter((e) => e.path !== sentinel)).toEqual([]);
  });

  it('still reports a file that merely carries an ignored directory name', async () => {
    const root = tempDir();
    writeTree(root, { 'scripts/build': '#!/bin/sh\n', 'dist/x.js': '' });
    const rig = await startRig([root], mode);
    const script = join(root, 'scripts/build');
    writeFileSync(script, '#!/bin/sh\necho changed\n');
    await rig.waitEvent('change', script);
  });

  it('sees every file of a burst of 300 in new directories', async () => {
    const root = tempDir();
    const rig = await startRig([root], mode);
    const expected: string[] = [];
    for (let d = 0; d < 15; d++) {
      const dir = join(root, 'burst', `d${d}`, 'sub');
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 20; f++) {
        const file = join(dir, `f${f}.py`);
        writeFileSync(file, `${d}/${f}`);
        expected.push(file);
      }
    }
    const missing = () => expected.filter((p) => !rig.saw(['add', 'change'], p));
    await rig.waitEvent(['add', 'change'], expected.at(-1)!, 15_000);
    await expect.poll(() => missing().length, { timeout: 15_000, interval: 50 }).toBe(0);
  });

  it('keeps working after the root is deleted and recreated', async () => {
    const root = join(tempDir(), 'project');
    writeTree(root, { 'a.py': '', 'pkg/b.py': '' });
    const rig = await startRig([root], mode);
    rmSync(root, { recursive: true });
    await rig.waitEvent('unlinkDir', root);
    await rig.waitWarning('disappeared');
    mkdirSync(root);
    await rig.waitEvent('addDir', root);
    const file = join(root, 'new.py');
    writeFileSync(file, 'back');
    await rig.waitEvent(['add', 'change'], file);
    rig.events.length = 0;
    writeFileSync(file, 'changed again');
    await rig.waitEvent('change', file);
  });

  it('keeps working after the root is replaced in one go', async () => {
    const root = join(tempDir(), 'project');
    writeTree(root, { 'a.py': '', 'pkg/b.py': '' });
    const rig = await startRig([root], mode);
    rmSync(root, { recursive: true });
    mkdirSync(root);
    await waitFor(() => rig.saw('unlink', join(root, 'a.py')) || rig.saw('unlinkDir', root), 'the deletion to be seen');
    // Written until seen: how soon the new directory is watched again differs between backends.
    const file = join(root, 'later.py');
    let tries = 0;
    const seen = () => rig.saw(['add', 'change'], file) || (writeFileSync(file, `try ${tries++}`), false);
    await waitFor(seen, `a write to ${file} to be seen`, 10_000, 200);
  });

  it('takes a change of the root directory\'s own metadata for no disappearance', async () => {
    const root = tempDir();
    writeTree(root, { 'a.py': '' });
    const rig = await startRig([root], mode);
    chmodSync(root, 0o700);
    utimesSync(root, new Date(), new Date());
    await sleep(ABSENCE_MS); // bounded: proves that no disappearance is reported
    expect(rig.warnings).toEqual([]);
    expect(rig.saw('unlinkDir', root)).toBe(false);
    const file = join(root, 'a.py');
    writeFileSync(file, 'changed');
    await rig.waitEvent('change', file);
  });

  it('reports a directory moved out of the tree', async () => {
    const root = tempDir();
    const away = tempDir();
    writeTree(root, { 'pkg/a.py': '', 'pkg/inner/b.py': '' });
    const rig = await startRig([root], mode);
    renameSync(join(root, 'pkg'), join(away, 'pkg'));
    await rig.waitEvent('unlinkDir', join(root, 'pkg'));
  });

  it('watches a tree moved in, down to its deepest directory', async () => {
    const root = tempDir();
    const outside = tempDir();
    writeTree(outside, { 't/u/v/g.py': 'one' });
    const rig = await startRig([root], mode);
    renameSync(join(outside, 't'), join(root, 't'));
    const deep = join(root, 't/u/v/g.py');
    await rig.waitEvent(['add', 'addDir'], join(root, 't'));
    await rig.waitEvent('add', deep);
    rig.events.length = 0;
    writeFileSync(deep, 'two, longer');
    await rig.waitEvent('change', deep);
    const fresh = join(root, 't/u/v/h.py');
    writeFileSync(fresh, '');
    await rig.waitEvent(['add', 'change'], fresh);
  });

  it('keeps watching a directory replaced by a tree of the same shape', async () => {
    const root = tempDir();
    const outside = tempDir();
    writeTree(root, { 'pkg/a/b/old.py': '' });
    writeTree(outside, { 'pkg/a/b/new.py': 'one' });
    const rig = await startRig([root], mode);
    // Moved away, its subdirectories go without a word of their own.
    renameSync(join(root, 'pkg'), join(outside, 'old-pkg'));
    await rig.waitEvent('unlinkDir', join(root, 'pkg'));
    renameSync(join(outside, 'pkg'), join(root, 'pkg'));
    const file = join(root, 'pkg/a/b/new.py');
    await rig.waitEvent('add', file);
    rig.events.length = 0;
    writeFileSync(file, 'two, longer');
    await rig.waitEvent('change', file);
  });

  it('watches a file root alone, through an editor-style replace', async () => {
    const dir = tempDir();
    writeTree(dir, { 'main.py': 'one', 'other.py': '' });
    const file = join(dir, 'main.py');
    const rig = await startRig([file], mode);
    writeFileSync(join(dir, 'other.py'), 'ignored');
    writeFileSync(file, 'two, longer');
    await rig.waitEvent('change', file);
    rig.events.length = 0;
    writeFileSync(join(dir, '.main.py.tmp'), 'three, longest');
    renameSync(join(dir, '.main.py.tmp'), file);
    await rig.waitEvent(['add', 'change'], file);
    await sleep(ABSENCE_MS); // bounded: nothing about the siblings may follow
    expect(rig.events.filter((e) => e.path !== file)).toEqual([]);
  });

  it('watches a directory root and an ignored file root in it together', async () => {
    const root = tempDir();
    writeTree(root, { '.gitignore': '.env\n', '.env': 'A=1', 'pkg/sub/a.py': '' });
    const env = join(root, '.env');
    const rig = await startRig([root, env], mode, { ext: ['py'] });
    writeFileSync(env, 'A=2, longer');
    await rig.waitEvent('change', env);
    const deep = join(root, 'pkg/sub/a.py');
    writeFileSync(deep, 'changed');
    await rig.waitEvent('change', deep);
  });

  it('watches a root nested inside an ignored directory of another root', async () => {
    const root = tempDir();
    writeTree(root, { 'app.py': '', 'node_modules/linked/index.js': '', 'node_modules/other/index.js': '' });
    const linked = join(root, 'node_modules/linked');
    const rig = await startRig([root, linked], mode);
    writeFileSync(join(root, 'node_modules/other/index.js'), 'ignored');
    const file = join(linked, 'index.js');
    writeFileSync(file, 'changed');
    await rig.waitEvent('change', file);
    await sleep(ABSENCE_MS); // bounded: the other package must stay silent
    expect(rig.events.filter((e) => e.path.includes('node_modules/other'))).toEqual([]);
  });

  it('watches a root that is a symlink to a directory, under the name it was given', async () => {
    const base = tempDir();
    writeTree(base, { 'real/sub/a.py': '' });
    const root = join(base, 'link');
    symlinkSync(join(base, 'real'), root);
    const rig = await startRig([root], mode);
    const file = join(root, 'sub/a.py');
    writeFileSync(join(base, 'real/sub/a.py'), 'changed');
    await rig.waitEvent('change', file);
  });

  it('waits for a root that does not exist yet', async () => {
    const root = join(tempDir(), 'later');
    const rig = await startRig([root], mode);
    expect(rig.warnings.join('\n')).toContain(root);
    mkdirSync(root);
    await rig.waitEvent('addDir', root);
    const file = join(root, 'x.py');
    writeFileSync(file, '');
    await rig.waitEvent(['add', 'change'], file);
  });

  it('close() is idempotent and nothing is reported after it', async () => {
    const root = tempDir();
    const rig = await startRig([root], mode);
    await Promise.all([rig.watcher.close(), rig.watcher.close()]);
    await rig.watcher.close();
    writeFileSync(join(root, 'late.py'), '');
    await sleep(ABSENCE_MS); // bounded: proves that no event arrives
    expect(rig.events).toEqual([]);
  });
});

describe('watcher process exit', () => {
  let script = '';
  beforeAll(async () => {
    const out = await compileWatch();
    script = join(out, '..', 'close-and-exit.mjs');
    writeFileSync(script, CHILD);
  }, 60_000);

  // The child closes its watcher and then just returns: it must exit with nothing keeping it alive.
  it.each(MODES.flatMap((m) => [{ mode: m, vanish: false }, { mode: m, vanish: true }]))(
    'after close() the process exits by itself ($mode.name, root vanished first: $vanish)',
    async ({ mode, vanish }) => {
      const root = tempDir();
      const args = [root, mode.backend, mode.poll ? 'poll' : '-', vanish ? 'vanish' : '-'];
      const r = await runScript(script, args, { timeoutMs: 15_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('closed');
      expect(r.exitedByItself).toBe(true);
      expect(r.code).toBe(0);
    },
  );
});

const CHILD = `
import { rmSync, writeFileSync } from 'node:fs';
import { createFilter } from './watch/filter.js';
import { createWatcher } from './watch/watcher.js';
const [root, backend, poll, vanish] = process.argv.slice(2);
const until = async (ok, what) => {
  for (const end = Date.now() + 10000; !ok(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > end) { console.log('timed out waiting for ' + what); process.exit(1); }
  }
};
let seen = false;
let vanished = false;
const w = await createWatcher({
  roots: [root], filter: createFilter({ roots: [root] }), backend, poll: poll === 'poll', pollIntervalMs: 50,
  onEvents: (evs) => { seen ||= evs.some((e) => e.path.endsWith('probe.py')); },
  onWarning: (m) => { vanished ||= m.includes('disappeared'); },
});
writeFileSync(root + '/probe.py', 'x');
await until(() => seen, 'the probe event');
if (vanish === 'vanish') {
  rmSync(root, { recursive: true });
  await until(() => vanished, 'the root to be missed');
}
await w.close();
console.log('closed');
`;
