import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { removeTempDirs, tempDir, writeTree } from '../helpers/tmp.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});
afterAll(removeTempDirs);

type Ev = Record<string, unknown> & { type: string };

function up(root: string): DevsupProcess {
  const p = new DevsupProcess(['up', '--json'], { cwd: root });
  running.push(p);
  return p;
}

function config(root: string, workers: unknown[]): void {
  writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers }, null, 2));
}

/** A service that says it is ready only after `delayMs`. */
const SERVICE = (name: string, delayMs: number) =>
  [
    "process.on('SIGTERM', () => process.exit(0));",
    'setInterval(() => {}, 1000);',
    `setTimeout(() => console.log('${name} ready pid=' + process.pid + ' gen=' + process.env.DEVSUP_GENERATION), ${delayMs});`,
  ].join('\n');

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const at = (evs: Ev[], pred: (e: Ev) => boolean): number => evs.findIndex(pred);
const is = (type: string, worker: string, generation?: number) => (e: Ev) =>
  e.type === type && e.worker === worker && (generation === undefined || e.generation === generation);

describe('dependencies hold on every start', () => {
  it('a chain of three starts in order, and again in order when all restart at once', async () => {
    const root = tempDir();
    writeTree(root, { 'db/db.mjs': SERVICE('db', 300), 'api/api.mjs': SERVICE('api', 200), 'web/web.mjs': SERVICE('web', 0) });
    config(root, [
      { name: 'web', cmd: ['node', 'web.mjs'], cwd: 'web', dependsOn: ['api'], ready: { log: '^web ready' } },
      { name: 'api', cmd: ['node', 'api.mjs'], cwd: 'api', dependsOn: ['db'], ready: { log: '^api ready' } },
      { name: 'db', cmd: ['node', 'db.mjs'], cwd: 'db', ready: { log: '^db ready' } },
    ]);
    const p = up(root);
    for (const w of ['db', 'api', 'web']) await p.waitForEvent((e) => is('ready', w, 1)(e as Ev), `${w} ready`);
    let evs = p.events() as Ev[];
    expect(at(evs, is('worker-starting', 'api', 1))).toBeGreaterThan(at(evs, is('ready', 'db', 1)));
    expect(at(evs, is('worker-starting', 'web', 1))).toBeGreaterThan(at(evs, is('ready', 'api', 1)));

    expect((await runDevsup(['restart'], root)).code).toBe(0);
    for (const w of ['db', 'api', 'web']) await p.waitForEvent((e) => is('ready', w, 2)(e as Ev), `${w} ready again`);
    evs = p.events() as Ev[];
    // Each dependent was stopped with the rest, but started only once what it needs was ready again.
    expect(at(evs, is('worker-starting', 'api', 2))).toBeGreaterThan(at(evs, is('ready', 'db', 2)));
    expect(at(evs, is('worker-starting', 'web', 2))).toBeGreaterThan(at(evs, is('ready', 'api', 2)));
  });

  it('a task that depends on a slow service never files a result against old code or a refused connection', async () => {
    const root = tempDir();
    const port = await freePort();
    writeTree(root, {
      'api/v.mjs': "export const v = 'v1';",
      'api/api.mjs': [
        "import { createServer } from 'node:http';",
        "const { v } = await import('./v.mjs');",
        "process.on('SIGTERM', () => process.exit(0));",
        // Listens only after a while, as a real server that loads things first.
        `setTimeout(() => createServer((_, res) => res.end(v)).listen(${port}, '127.0.0.1', () => console.log('api ' + v + ' listening')), 400);`,
      ].join('\n'),
      'probe/probe.mjs': [
        `fetch('http://127.0.0.1:${port}/').then(async (r) => { console.log('got ' + (await r.text())); process.exit(0); },`,
        "  (e) => { console.log('refused ' + e.cause?.code); process.exit(1); });",
      ].join('\n'),
    });
    config(root, [
      { name: 'api', cmd: ['node', 'api.mjs'], cwd: 'api', ready: { port } },
      { name: 'probe', cmd: ['node', 'probe.mjs'], cwd: 'probe', kind: 'task', dependsOn: ['api'], watch: ['.', '../api'] },
    ]);
    const p = up(root);
    const passedOn = async (v: string): Promise<Ev> =>
      (await p.waitForEvent((e) => {
        const ev = e as Ev;
        if (!is('task-finished', 'probe')(ev) || ev.result !== 'passed') return false;
        return (p.events() as Ev[]).some((o) => is('output', 'probe', ev.generation as number)(o) && o.line === `got ${v}`);
      }, `a passed run against ${v}`, 20_000)) as Ev;
    await passedOn('v1');
    for (const v of ['v2', 'v3', 'v4']) {
      writeFileSync(join(root, 'api/v.mjs'), `export const v = '${v}';`);
      await passedOn(v);
    }
    const evs = p.events() as Ev[];
    const finished = evs.filter(is('task-finished', 'probe'));
    expect(finished.filter((e) => e.result === 'failed')).toEqual([]);
    expect(evs.filter((e) => e.type === 'output' && String(e.line).startsWith('refused'))).toEqual([]);
    // Every passed run names the api code it ran against, and that is the code that answered it.
    const apiCode = new Map<number, string>(evs.filter(is('worker-started', 'api')).map((e) => [e.generation as number, e.codeId as string]));
    const apiVersion = new Map<string, string>();
    for (const e of evs.filter((o) => is('output', 'api')(o) && /^api v\d listening/.test(String(o.line)))) {
      apiVersion.set(apiCode.get(e.generation as number)!, String(e.line).split(' ')[1]!);
    }
    for (const run of finished.filter((e) => e.result === 'passed')) {
      const deps = run.deps as Record<string, string>;
      const got = evs.find((o) => is('output', 'probe', run.generation as number)(o) && String(o.line).startsWith('got '));
      expect(`got ${deps.api === undefined ? '?' : apiVersion.get(deps.api)}`).toBe(got?.line);
    }
    // The record on disk says it too.
    await p.stop('SIGTERM');
    const history = await runDevsup(['history', 'probe'], root);
    const last = finished.filter((e) => e.result === 'passed').at(-1)!;
    expect(history.stdout).toContain(`passed against api ${String((last.deps as Record<string, string>).api)}`);
  }, 60_000);

  it('a task reruns when the service it depends on gets new code, though its own files did not change', async () => {
    const root = tempDir();
    writeTree(root, { 'api/api.mjs': SERVICE('api', 100), 'api/v.txt': '1', 't/t.mjs': "console.log('checked'); process.exit(0);" });
    config(root, [
      // A long settle: the api has not noticed the edit yet when wait-fresh is asked.
      { name: 'api', cmd: ['node', 'api.mjs'], cwd: 'api', ready: { log: '^api ready' }, settle: 3000 },
      { name: 't', cmd: ['node', 't.mjs'], cwd: 't', kind: 'task', dependsOn: ['api'] },
    ]);
    const p = up(root);
    const first = (await p.waitForEvent((e) => is('task-finished', 't')(e as Ev), 'first run')) as Ev;
    writeFileSync(join(root, 'api/v.txt'), '2');
    // Waiting for the task alone includes the edit to what it depends on (its barrier settles it now).
    const waited = await runDevsup(['wait-fresh', 't', '--timeout', '15s'], root);
    expect(waited).toMatchObject({ code: 0, stderr: 't: passed' });
    const newApi = (p.events() as Ev[]).filter(is('worker-started', 'api')).at(-1)!;
    expect(newApi.generation).toBe(2);
    const atReturn = (p.events() as Ev[]).filter(is('task-finished', 't'));
    expect(atReturn.at(-1)).toMatchObject({ result: 'passed', deps: { api: newApi.codeId } });
    const second = (await p.waitForEvent((e) => is('task-finished', 't')(e as Ev) && (e as Ev).generation !== first.generation, 'a rerun')) as Ev;
    expect(second).toMatchObject({ result: 'passed', changedFiles: 0 });
    expect((second.deps as Record<string, string>).api).not.toBe((first.deps as Record<string, string>).api);
    const starting = (p.events() as Ev[]).filter(is('worker-starting', 't')).at(-1);
    expect(starting).toMatchObject({ reason: 'dependency' });
  });
});
