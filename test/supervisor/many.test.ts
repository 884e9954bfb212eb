import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { isAlive } from '../helpers/procs.js';
import { removeTempDirs, tempDir, writeTree } from '../helpers/tmp.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM', 20_000).catch(() => undefined);
  running = [];
});
afterAll(removeTempDirs);

type Ev = Record<string, unknown> & { type: string };

function up(root: string): DevsupProcess {
  const p = new DevsupProcess(['up', '--json', '--no-tui'], { cwd: root });
  running.push(p);
  return p;
}

/** A service that loads the shared module and says it is ready after `delayMs`. */
const SERVICE = (name: string, delayMs: number) =>
  [
    "import { v } from '../shared/conf.mjs';",
    "process.on('SIGTERM', () => process.exit(0));",
    'setInterval(() => {}, 1000);',
    `setTimeout(() => console.log('${name} ready v=' + v + ' pid=' + process.pid), ${delayMs});`,
  ].join('\n');

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return s;
    }),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const is = (type: string, worker: string, generation?: number) => (e: Ev) =>
  e.type === type && e.worker === worker && (generation === undefined || e.generation === generation);
/** An output line of `worker` (with --json, the children's lines are events too). */
const said = (worker: string, re: RegExp) => (e: Ev) => e.type === 'output' && e.worker === worker && re.test(String(e.line));
const index = (evs: Ev[], pred: (e: Ev) => boolean): number => evs.findIndex(pred);

describe('many workers', () => {
  it('an edit in a directory several dependent services watch restarts each once, each after what it depends on is ready again', async () => {
    const root = tempDir();
    writeTree(root, {
      'shared/conf.mjs': 'export const v = 1;',
      'db/main.mjs': SERVICE('db', 400),
      'api/main.mjs': SERVICE('api', 150),
      'web/main.mjs': SERVICE('web', 0),
      'other/main.mjs': "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000); console.log('other ready pid=' + process.pid);",
    });
    // Dependants first: their trees are made first, so they hear of the edit first (the unlucky order).
    const svc = (name: string, deps: string[]) => ({
      name,
      cmd: ['node', 'main.mjs'],
      cwd: name,
      watch: ['.', '../shared'],
      ready: { log: `^${name} ready` },
      dependsOn: deps,
    });
    const workers = [
      svc('web', ['api']),
      svc('api', ['db']),
      svc('db', []),
      { name: 'other', cmd: ['node', 'main.mjs'], cwd: 'other', ready: { log: '^other ready' } },
      { name: 'check', kind: 'task', cmd: ['node', '-e', "import('../shared/conf.mjs').then((m) => console.log('check v=' + m.v))"], cwd: 'other', watch: ['../shared'], dependsOn: ['api'] },
    ];
    writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ defaults: { settle: 100 }, workers }, null, 2));
    const p = up(root);
    for (const w of ['db', 'api', 'web', 'other']) await p.waitForEvent(is('ready', w, 1), `${w} ready`, 20_000);
    await p.waitForEvent((e) => is('task-finished', 'check')(e) && e.result === 'passed', 'check passed', 20_000);
    const before = p.events().length;

    writeFileSync(join(root, 'shared', 'conf.mjs'), 'export const v = 2;');
    for (const w of ['db', 'api', 'web']) await p.waitForEvent(is('ready', w, 2), `${w} ready on the edit`, 20_000);
    await p.waitForEvent(said('check', /^check v=2/), 'check ran on the edit', 20_000);
    // A barrier: every worker fresh and nothing pending. A second restart would have begun by then.
    expect((await runDevsup(['wait-fresh', '--timeout', '20s'], root, 30_000)).code).toBe(0);

    const evs = p.events().slice(before) as Ev[];
    const starts = (w: string) => evs.filter(is('worker-started', w)).length;
    expect({ db: starts('db'), api: starts('api'), web: starts('web'), check: starts('check'), other: starts('other') }).toEqual({ db: 1, api: 1, web: 1, check: 1, other: 0 });
    expect(index(evs, is('worker-starting', 'api', 2))).toBeGreaterThan(index(evs, is('ready', 'db', 2)));
    expect(index(evs, is('worker-starting', 'web', 2))).toBeGreaterThan(index(evs, is('ready', 'api', 2)));
    const checkRun = evs.find(is('worker-started', 'check'))!;
    expect(evs.indexOf(checkRun)).toBeGreaterThan(index(evs, is('ready', 'api', 2)));
    // Each ran the new shared code, once: no line of the old value after the edit.
    for (const w of ['db', 'api', 'web']) expect(evs.filter(said(w, /ready v=/)).map((e) => e.line)).toEqual([expect.stringMatching(/ v=2 /)]);
    expect(evs.filter((e) => is('task-finished', 'check')(e) && e.result !== 'passed')).toEqual([]);
  }, 90_000);

  it('a dependant whose settle window closes first still starts only after its dependency restarted on the edit and is ready', async () => {
    const root = tempDir();
    writeTree(root, { 'shared/conf.mjs': 'export const v = 1;', 'db/main.mjs': SERVICE('db', 300), 'api/main.mjs': SERVICE('api', 0) });
    const svc = (name: string, deps: string[], settle: number) => ({ name, cmd: ['node', 'main.mjs'], cwd: name, watch: ['.', '../shared'], ready: { log: `^${name} ready` }, dependsOn: deps, settle });
    // api hears of the edit 600 ms before db does: db still runs, ready, on the old code meanwhile.
    writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers: [svc('api', ['db'], 50), svc('db', [], 650)] }, null, 2));
    const p = up(root);
    for (const w of ['db', 'api']) await p.waitForEvent(is('ready', w, 1), `${w} ready`, 20_000);
    const before = p.events().length;
    writeFileSync(join(root, 'shared', 'conf.mjs'), 'export const v = 2;');
    for (const w of ['db', 'api']) await p.waitForEvent(is('ready', w, 2), `${w} ready on the edit`, 20_000);
    expect((await runDevsup(['wait-fresh', '--timeout', '20s'], root, 30_000)).code).toBe(0);
    const evs = p.events().slice(before) as Ev[];
    expect(evs.filter((e) => e.type === 'worker-started').map((e) => `${String(e.worker)} ${String(e.generation)}`)).toEqual(['db 2', 'api 2']);
    expect(index(evs, is('worker-starting', 'api', 2))).toBeGreaterThan(index(evs, is('ready', 'db', 2)));
  }, 60_000);

  it('twenty services and five tasks all start and become ready, and none is left behind after the stop', async () => {
    const root = tempDir();
    const ports = await freePorts(20);
    const files: Record<string, string> = { 'shared/conf.mjs': 'export const v = 1;' };
    const workers: unknown[] = [];
    ports.forEach((port, i) => {
      const name = `s${i}`;
      files[`${name}/main.mjs`] = [
        "import { createServer } from 'node:http';",
        "import { v } from '../shared/conf.mjs';",
        `setTimeout(() => createServer((_, res) => res.end(String(v))).listen(${port}, '127.0.0.1'), ${(i * 37) % 200});`,
      ].join('\n');
      workers.push({ name, cmd: ['node', 'main.mjs'], cwd: name, watch: ['.', '../shared'], ready: { port, host: '127.0.0.1' }, ...(i > 0 && i < 5 ? { dependsOn: ['s0'] } : {}) });
    });
    for (let k = 0; k < 5; k++) {
      files[`t${k}/check.mjs`] = `console.log('t${k} passed');`;
      workers.push({ name: `t${k}`, kind: 'task', cmd: ['node', 'check.mjs'], cwd: `t${k}`, ...(k < 3 ? { dependsOn: [`s${k * 7}`] } : {}) });
    }
    writeTree(root, files);
    writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers }, null, 2));
    const p = up(root);
    for (let i = 0; i < 20; i++) await p.waitForEvent(is('ready', `s${i}`, 1), `s${i} ready`, 40_000);
    for (let k = 0; k < 5; k++) await p.waitForEvent((e) => is('task-finished', `t${k}`)(e) && e.result === 'passed', `t${k} passed`, 40_000);

    const evs = p.events() as Ev[];
    for (let i = 1; i < 5; i++) expect(index(evs, is('worker-starting', `s${i}`, 1))).toBeGreaterThan(index(evs, is('ready', 's0', 1)));
    expect(evs.filter((e) => e.type === 'worker-started' && e.generation !== 1)).toEqual([]);
    const pids = evs.filter((e) => e.type === 'worker-started').map((e) => e.pid as number);
    expect(pids).toHaveLength(25);
    const services = evs.filter((e) => e.type === 'worker-started' && String(e.worker).startsWith('s')).map((e) => e.pid as number);
    expect(services.filter(isAlive)).toHaveLength(20);

    await p.stop('SIGTERM', 20_000);
    running = [];
    expect(pids.filter(isAlive)).toEqual([]);
  }, 120_000);
});
