import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ChangeSet } from '../../src/core/events.js';
import { SharedTrees, type TreeSettings } from '../../src/supervisor/shared-trees.js';
import { DevsupProcess } from '../helpers/devsup.js';
import { removeTempDirs, tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM', 20_000).catch(() => undefined);
  running = [];
});
afterAll(removeTempDirs);

type Ev = Record<string, unknown> & { type: string };
const is = (type: string, worker: string, generation?: number) => (e: Ev) =>
  e.type === type && e.worker === worker && (generation === undefined || e.generation === generation);

describe('SharedTrees', () => {
  it('gives workers with the same settings one tree, tells each of them every change, and closes it with its last user', async () => {
    const root = tempDir();
    writeTree(root, { 'src/a.js': 'a1', 'src/b.py': 'b1' });
    const settings: TreeSettings = { roots: [join(root, 'src')], ignore: [], settleMs: 50 };
    const trees = new SharedTrees();
    const heard: Record<string, ChangeSet[]> = { a: [], b: [], c: [] };
    const user = (n: string) => ({ onWarning: () => undefined, onChange: (_: unknown, c: ChangeSet) => heard[n]!.push(c) });
    const a = trees.join('a', settings, user('a'));
    const b = trees.join('b', { ...settings, roots: [join(root, 'src')] }, user('b'));
    const c = trees.join('c', { ...settings, ext: ['py'] }, user('c'));
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(trees.size).toBe(2);
    try {
      await Promise.all([a.tree.start(), c.tree.start()]);
      writeFileSync(join(root, 'src', 'a.js'), 'a2');
      await waitFor(() => heard.a!.length === 1 && heard.b!.length === 1, 'a and b to hear of the edit');
      expect(heard.b![0]!.modified).toEqual([join(root, 'src', 'a.js')]);
      expect(heard.c).toEqual([]); // not one of its files

      // b leaves, taking back the hold it put on the tree: a still hears of edits, at once.
      a.tree.hold();
      await trees.leave('b', b, 1);
      expect(a.tree.isClosed).toBe(false);
      writeFileSync(join(root, 'src', 'a.js'), 'a3');
      await waitFor(() => heard.a!.length === 2, 'a to hear of the edit after b left');
      expect(heard.b).toHaveLength(1);

      await trees.leave('a', a, 0);
      expect(a.tree.isClosed).toBe(true);
      expect(trees.size).toBe(1);
      // The next worker with those settings gets a new tree.
      const d = trees.join('d', settings, user('a'));
      expect(d).not.toBe(a);
      await trees.leave('d', d, 0);
    } finally {
      await Promise.all([a.tree.close(), c.tree.close()]);
    }
  });

  it('under up, workers watching the same directory each restart once for an edit, and one removed from the config leaves the others watching', async () => {
    const root = tempDir();
    const app = "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000); console.log(process.env.NAME + ' up pid=' + process.pid);";
    writeTree(root, { 'src/app.js': app, 'src/lib.js': 'v1' });
    const worker = (name: string) => ({ name, cmd: ['node', 'src/app.js'], env: { NAME: name }, watch: ['src'], ready: { log: ' up ' } });
    const write = (names: string[]) => writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers: names.map(worker) }, null, 2));
    write(['a', 'b', 'c']);
    const p = new DevsupProcess(['up', '--json', '--no-tui'], { cwd: root });
    running.push(p);
    for (const w of ['a', 'b', 'c']) await p.waitForEvent(is('ready', w, 1), `${w} ready`, 20_000);
    const watching = p.events().filter((e) => e.type === 'watching');
    expect(watching.map((e) => e.worker)).toEqual(['a', 'b', 'c']);
    expect(new Set(watching.map((e) => e.files))).toEqual(new Set([2]));

    writeFileSync(join(root, 'src', 'lib.js'), 'v2');
    for (const w of ['a', 'b', 'c']) await p.waitForEvent(is('ready', w, 2), `${w} restarted`, 20_000);

    write(['a', 'c']);
    await p.waitForEvent((e) => is('stopped', 'b', 2)(e), 'b removed', 20_000);
    writeFileSync(join(root, 'src', 'lib.js'), 'v3');
    for (const w of ['a', 'c']) await p.waitForEvent(is('ready', w, 3), `${w} restarted after b left`, 20_000);
    const evs = p.events() as Ev[];
    expect(evs.filter(is('worker-started', 'a')).map((e) => e.generation)).toEqual([1, 2, 3]);
    expect(evs.filter(is('worker-started', 'b')).map((e) => e.generation)).toEqual([1, 2]);
  }, 60_000);
});
