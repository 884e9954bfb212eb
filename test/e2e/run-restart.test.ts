import { mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess } from '../helpers/devsup.js';
import { tempDir } from '../helpers/tmp.js';
import { writeApp } from './app-fixture.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

function start(root: string, extra: string[] = []): DevsupProcess {
  const p = new DevsupProcess(['run', '--json', ...extra, '--', 'node', 'app.mjs'], { cwd: root });
  running.push(p);
  return p;
}

const started = (gen: number) => (e: { type: string; generation?: unknown }) => e.type === 'worker-started' && e.generation === gen;

/** Proving that something did NOT happen needs a bounded wait longer than settle plus the watcher's latency. */
const QUIET_PROOF_MS = 600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('devsup run: restarts by content', () => {
  it('restarts on a content change and the new child runs the new code', async () => {
    const root = tempDir();
    writeApp(root, 'one');
    const p = start(root);
    await p.waitForLine(/READY .* gen=1 .*value=one/);
    writeFileSync(join(root, 'value.mjs'), "export const value = 'two';\n");
    await p.waitForLine(/READY .* gen=2 .*value=two/);
    const ev = await p.waitForEvent(started(2), 'generation 2 started');
    expect(ev.restart).toMatchObject({ reason: 'change', changes: { modified: ['value.mjs'], added: [], removed: [] } });
    const first = p.events().find(started(1))!;
    expect(ev.codeId).not.toBe(first.codeId);
  });

  it('does not restart for a touch or an identical rewrite, and a restored mtime does not hide a change', async () => {
    const root = tempDir();
    writeApp(root, 'one');
    const p = start(root);
    await p.waitForLine(/READY .* gen=1 /);
    const file = join(root, 'value.mjs');
    const original = readFileSync(file);
    const future = new Date(Date.now() + 3600_000);
    utimesSync(file, future, future);
    writeFileSync(file, original);
    await sleep(QUIET_PROOF_MS);
    expect(p.events().filter((e) => e.type === 'worker-started')).toHaveLength(1);
    // Same size, and the mtime put back to before: only the content says it changed.
    const past = new Date(Date.now() - 3600_000);
    writeFileSync(file, "export const value = 'uno';\n");
    utimesSync(file, past, past);
    await p.waitForLine(/READY .* gen=2 .*value=uno/);
  });

  it('an editor opening and saving a file restarts once, for the file alone', async () => {
    const root = tempDir();
    writeApp(root, 'one');
    const p = start(root);
    await p.waitForLine(/READY .* gen=1 /);
    // Opening in vim: a swap file appears beside the source and is written to as one types.
    writeFileSync(join(root, '.value.mjs.swp'), 'b0VIM');
    writeFileSync(join(root, '.value.mjs.swp'), 'b0VIM more');
    writeFileSync(join(root, '#value.mjs#'), 'emacs autosave');
    await sleep(QUIET_PROOF_MS);
    expect(p.events().filter((e) => e.type === 'worker-started')).toHaveLength(1);
    // Saving the vim way: probe 4913, keep a backup x~, write the file, drop the backup.
    writeFileSync(join(root, '4913'), '');
    rmSync(join(root, '4913'));
    renameSync(join(root, 'value.mjs'), join(root, 'value.mjs~'));
    writeFileSync(join(root, 'value.mjs'), "export const value = 'two';\n");
    rmSync(join(root, 'value.mjs~'));
    const ev = await p.waitForEvent(started(2), 'the save restarted');
    expect(ev.restart).toMatchObject({ changes: { modified: ['value.mjs'], added: [], removed: [] } });
    rmSync(join(root, '.value.mjs.swp'));
    await sleep(QUIET_PROOF_MS);
    expect(p.events().filter((e) => e.type === 'worker-started')).toHaveLength(2);
  });

  it('an edit of .gitignore applies its new rules at once: a file it now leaves out no longer restarts, one it lets in does', async () => {
    const root = tempDir();
    writeApp(root, 'one', { '.gitignore': 'out/\n*.log\n' });
    const p = start(root);
    await p.waitForLine(/READY .* gen=1 /);
    writeFileSync(join(root, '.gitignore'), 'out/\n*.log\n*.tmp\n');
    await p.waitForEvent(started(2), 'the .gitignore edit restarted');
    // Written together: a restart that lists scratch.tmp would prove the old rules still apply.
    writeFileSync(join(root, 'scratch.tmp'), 'x');
    writeFileSync(join(root, 'value.mjs'), "export const value = 'two';\n");
    const third = await p.waitForEvent(started(3), 'the source edit restarted');
    const changes = (third.restart as { changes: { added: string[]; modified: string[] } }).changes;
    expect([...changes.added, ...changes.modified]).toEqual(['value.mjs']);
    writeFileSync(join(root, '.gitignore'), 'out/\n*.tmp\n');
    await p.waitForEvent(started(4), 'the second .gitignore edit restarted');
    writeFileSync(join(root, 'server.log'), 'now a file that counts');
    const fifth = await p.waitForEvent(started(5), 'a .log file, no longer ignored, restarted');
    expect((fifth.restart as { changes: { added: string[] } }).changes.added).toEqual(['server.log']);
  });

  it('restarts once for a burst of 300 files', async () => {
    const root = tempDir();
    const many: Record<string, string> = {};
    for (let i = 0; i < 300; i++) many[`lib/m${i}.mjs`] = `export const n = ${i};\n`;
    writeApp(root, 'one', many);
    const p = start(root);
    await p.waitForLine(/READY .* gen=1 /);
    for (let i = 0; i < 300; i++) writeFileSync(join(root, `lib/m${i}.mjs`), `export const n = ${i + 1000};\n`);
    const ev = await p.waitForEvent(started(2), 'one restart for the burst');
    expect((ev.restart as { changes: { modified: string[] } }).changes.modified).toHaveLength(300);
    await sleep(QUIET_PROOF_MS);
    expect(p.events().filter((e) => e.type === 'worker-started')).toHaveLength(2);
  });

  it('never starts the child on a half-written file', async () => {
    const root = tempDir();
    writeApp(root, 'one');
    const p = start(root);
    await p.waitForLine(/READY .* gen=1 /);
    const file = join(root, 'value.mjs');
    for (let trial = 0; trial < 3; trial++) {
      const value = `v${trial}`;
      // The first half alone is a syntax error; loading it would crash the child.
      writeFileSync(file, "export const value = 'v");
      await sleep(60);
      writeFileSync(file, `export const value = '${value}';\n`);
      await p.waitForLine(new RegExp(`READY .*value=${value}$`), `value ${value}`);
    }
    expect(p.text()).not.toMatch(/SyntaxError/);
    expect(p.events().filter((e) => e.type === 'exited')).toHaveLength(0);
    expect(p.events().filter((e) => e.type === 'worker-started')).toHaveLength(4);
  });

  it('passes DEVSUP_* variables that identify the code', async () => {
    const root = tempDir();
    writeApp(root, 'one', {
      'env.mjs': [
        "process.on('SIGTERM', () => process.exit(0));",
        'setInterval(() => {}, 1000);',
        "console.log('ENV ' + JSON.stringify({ d: process.env.DEVSUP, g: process.env.DEVSUP_GENERATION, s: process.env.DEVSUP_STARTED_AT, c: process.env.DEVSUP_CODE_ID }));",
      ].join('\n'),
    });
    const p = new DevsupProcess(['run', '--json', '--', 'node', 'env.mjs'], { cwd: root });
    running.push(p);
    const line = await p.waitForLine(/^ENV /);
    const env = JSON.parse(line.slice(4)) as Record<string, string>;
    const ev = await p.waitForEvent(started(1), 'started');
    expect(env).toEqual({ d: '1', g: '1', s: ev.startedAt, c: ev.codeId });
    expect(env.c).toMatch(/^[0-9a-f]{10}$/);
  });

  it('watches only --watch paths and --ext files, and honours --ignore and .gitignore', async () => {
    const root = tempDir();
    writeApp(root, 'one', { 'notes.txt': 'a', 'gen/out.mjs': 'x', '.gitignore': 'gen/\n', 'src/x.mjs': '1' });
    mkdirSync(join(root, 'tmp'));
    const p = start(root, ['--ext', 'mjs', '--ignore', 'tmp/**']);
    await p.waitForLine(/READY .* gen=1 /);
    writeFileSync(join(root, 'notes.txt'), 'b');
    writeFileSync(join(root, 'gen/out.mjs'), 'y');
    writeFileSync(join(root, 'tmp/t.mjs'), 'z');
    await sleep(QUIET_PROOF_MS);
    expect(p.events().filter((e) => e.type === 'worker-started')).toHaveLength(1);
    writeFileSync(join(root, 'src/x.mjs'), '2');
    const ev = await p.waitForEvent(started(2), 'restart for src/x.mjs');
    expect((ev.restart as { changes: { modified: string[] } }).changes.modified).toEqual(['src/x.mjs']);
  });
});
