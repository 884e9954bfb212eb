import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { DEFAULTS_FIELDS, WORKER_FIELDS } from '../../src/config/schema.js';
import { trackPid } from '../helpers/procs.js';
import { waitFor } from '../helpers/wait.js';

const at = (rel: string) => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

/** Starts `node file`, collecting its output; the caller stops it. */
function startNode(file: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  trackPid(child.pid);
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, output: () => out, exited };
}

describe('config.example.json', () => {
  it('passes every check, so every watch path exists', async () => {
    const config = await loadConfig(at('config.example.json'));
    expect(config.workers.map((w) => [w.name, w.kind])).toEqual([
      ['api', 'service'],
      ['worker', 'service'],
      ['tests', 'task'],
    ]);
    expect(config.workers[1]!.dependsOn).toEqual(['api']);
    expect(config.workers[0]!.ready).toEqual({ port: 4310, host: '127.0.0.1' });
  });

  it('sets every worker field on at least one worker', () => {
    const raw = JSON.parse(readFileSync(at('config.example.json'), 'utf8')) as {
      $schema: string;
      defaults: object;
      workers: object[];
    };
    expect(raw.$schema).toBe('./schema/devsup.schema.json');
    const used = new Set(raw.workers.flatMap((w) => Object.keys(w)));
    expect(WORKER_FIELDS.filter((f) => !used.has(f))).toEqual([]);
    expect(Object.keys(raw.defaults).every((f) => DEFAULTS_FIELDS.includes(f))).toBe(true);
  });
});

describe('example workers run with plain node', () => {
  it('the api answers with its message and the code id', async () => {
    const api = startNode(at('examples/api/server.js'), { PORT: '0', DEVSUP_CODE_ID: 'code-123' });
    const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(api.output())?.[1], 'the listening line');
    const body = await (await fetch(url)).text();
    expect(body).toBe('hello from the devsup example api (code code-123)\n');
    api.child.kill('SIGTERM');
    expect(await api.exited).toEqual([0, null]);
  });

  it('the worker logs a counter every second', async () => {
    const worker = startNode(at('examples/worker/worker.js'));
    await waitFor(() => worker.output().includes('tick 1 '), 'the first tick', 5000);
    expect(worker.output()).toMatch(/^worker started \(pid \d+\)\ntick 1 after \d+s\n/);
    worker.child.kill('SIGINT');
    await worker.exited;
  });

  it('the test task passes under node --test', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--test'], { cwd: at('examples/tests/') });
    expect(stdout).toMatch(/# pass 2\n/);
    expect(stdout).toMatch(/# fail 0\n/);
  });
});
