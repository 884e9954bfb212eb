import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { tempDir } from '../helpers/tmp.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Writes `log` (relative) as soon as it starts, then idles. */
const CHILD = (log: string) =>
  `const fs = require('fs'); fs.mkdirSync(require('path').dirname(${JSON.stringify(log)}), { recursive: true });` +
  `fs.appendFileSync(${JSON.stringify(log)}, 'started ' + process.pid + '\\n'); console.log('READY pid=' + process.pid); setInterval(() => {}, 1000);`;

function start(root: string, log: string, extra: string[] = []): DevsupProcess {
  writeFileSync(join(root, 'child.js'), CHILD(log));
  const p = new DevsupProcess(['run', ...extra, '--', 'node', 'child.js'], { cwd: root });
  running.push(p);
  return p;
}

/** An app printing the number `version.js` exports, under `devsup run --json`, ready on version 0. */
async function versionApp(): Promise<{ root: string; p: DevsupProcess }> {
  const root = tempDir();
  writeFileSync(join(root, 'version.js'), 'module.exports = 0;\n');
  writeFileSync(join(root, 'app.js'), "console.log('READY version=' + require('./version.js') + ' pid=' + process.pid); setInterval(() => {}, 1000);\n");
  const p = new DevsupProcess(['run', '--json', '--', 'node', 'app.js'], { cwd: root });
  running.push(p);
  await p.waitForLine(/READY version=0 /);
  return { root, p };
}

describe('devsup run: a child writing into its own tree', () => {
  it('stops the loop, names the file and the --ignore, and restarts no more', async () => {
    const root = tempDir();
    const p = start(root, 'logs/app.log', ['--json']);
    const loop = await p.waitForEvent((e) => e.type === 'loop', 'a loop event', 20_000);
    expect(loop).toMatchObject({ worker: 'main', files: ['logs/app.log'], ignore: ['logs/app.log'], generations: 5 });
    const events = p.events();
    const before = events.slice(0, events.findIndex((e) => e.type === 'loop')).filter((e) => e.type === 'worker-started').length;
    expect(before).toBe(5);
    // At most one last restart leaves the file out; after it the child writes on and nothing restarts.
    await sleep(1500);
    const starts = p.events().filter((e) => e.type === 'worker-started').length;
    expect(starts).toBeLessThanOrEqual(before + 1);
    await sleep(1000);
    expect(p.events().filter((e) => e.type === 'worker-started')).toHaveLength(starts);
    // `status` says what is no longer watched, so a later edit to it restarting nothing is no surprise.
    const status = await runDevsup(['status'], root);
    expect(status.stdout).toMatch(/not watched since a restart loop: logs\/app\.log/);
    const json = JSON.parse((await runDevsup(['status', '--json'], root)).stdout) as { workers: { unwatched?: string[] }[] };
    expect(json.workers[0]?.unwatched).toEqual(['logs/app.log']);
    // Other files are still watched.
    writeFileSync(join(root, 'child.js'), CHILD('logs/app.log') + '\n// edited\n');
    await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === starts + 1, 'a restart for a real edit');
  });

  it('tells a reader of plain output what happened and how to fix it', async () => {
    const root = tempDir();
    const p = start(root, 'app.log');
    const line = await p.waitForLine(/restart loop/, 'the loop line', 20_000);
    expect(line).toContain('app.log changed right after each of 5 starts');
    expect(line).toContain('--ignore app.log');
  });

  it('takes a loop of edit, wait-fresh, read for the user\'s edits: every edit restarts, on the new code', async () => {
    const { root, p } = await versionApp();
    // Faster than a person: each edit lands within the loop window of the start before it.
    for (let v = 1; v <= 7; v++) {
      writeFileSync(join(root, 'version.js'), `module.exports = ${v};\n`);
      const r = await runDevsup(['wait-fresh', '--timeout', '20s'], root, 30_000);
      expect(r.code, r.stderr).toBe(0);
      await p.waitForLine(new RegExp(`READY version=${v} `), `version ${v} running`);
    }
    expect(p.events().filter((e) => e.type === 'loop')).toEqual([]);
  }, 120_000);

  it('takes a file rewritten right after every start, with nobody asking, for edits: none is left unwatched', async () => {
    const { root, p } = await versionApp();
    // What a benchmark or an agent polling the output does: the next edit as soon as the new code answers.
    for (let v = 1; v <= 7; v++) {
      writeFileSync(join(root, 'version.js'), `module.exports = ${v};\n`);
      await p.waitForLine(new RegExp(`READY version=${v} `), `version ${v} running`);
    }
    expect(p.events().filter((e) => e.type === 'loop')).toEqual([]);
  }, 120_000);

  it('takes a source appended to right after every start for edits, and a database rewritten at every start for a loop', async () => {
    const { root, p } = await versionApp();
    for (let v = 1; v <= 7; v++) {
      appendFileSync(join(root, 'version.js'), `module.exports = ${v};\n`);
      await p.waitForLine(new RegExp(`READY version=${v} `), `version ${v} running`);
    }
    expect(p.events().filter((e) => e.type === 'loop')).toEqual([]);

    const db = tempDir();
    writeFileSync(join(db, 'app.js'), "require('fs').writeFileSync('data.db', 'opened by ' + process.pid); console.log('READY'); setInterval(() => {}, 1000);\n");
    const q = new DevsupProcess(['run', '--json', '--', 'node', 'app.js'], { cwd: db });
    running.push(q);
    const loop = await q.waitForEvent((e) => e.type === 'loop', 'a loop event', 20_000);
    expect(loop).toMatchObject({ files: ['data.db'], ignore: ['data.db'] });
  }, 120_000);

  it('never starts looping when the log is ignored', async () => {
    const root = tempDir();
    const p = start(root, 'app.log', ['--json', '--ignore', 'app.log']);
    await p.waitForLine(/READY pid=/);
    await sleep(1500);
    expect(p.events().filter((e) => e.type === 'worker-started')).toHaveLength(1);
    expect(p.events().filter((e) => e.type === 'loop')).toEqual([]);
  });
});

describe('devsup run: a child writing a document into its own tree at every start', () => {
  it('keeps it watched, but after 20 such restarts in a row says so once, with the --ignore that stops them', async () => {
    const root = tempDir();
    const p = start(root, 'notes/run.txt', ['--json']);
    const warning = await p.waitForEvent((e) => e.type === 'warning' && /run\.txt changed right after each of 20 starts/.test(String(e.message)), 'the warning', 60_000);
    expect(String(warning.message)).toContain('--ignore notes/run.txt');
    expect(p.events().filter((e) => e.type === 'loop')).toEqual([]);
    // Said once: the restarts go on (the file stays watched), the warning does not come again.
    const gen = p.events().filter((e) => e.type === 'worker-started').length;
    await p.waitForEvent((e) => e.type === 'worker-started' && Number(e.generation) >= gen + 25, '25 more restarts', 60_000);
    expect(p.events().filter((e) => e.type === 'warning' && /changed right after each of/.test(String(e.message)))).toHaveLength(1);
  }, 150_000);
});
