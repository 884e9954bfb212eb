import { spawn } from 'node:child_process';
import { cpSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess } from '../helpers/devsup.js';
import { trackPid } from '../helpers/procs.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Reports every import of the packages a recorded config must not need, by appending to a file. */
const HOOKS = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  if (/^(zod|jsonc-parser)(\\/|$)/.test(specifier)) appendFileSync(log, specifier + '\\n');
  return next(specifier, context);
}
`;

/** For NODE_OPTIONS=--import: the same hooks in a process started by the command line. */
const REGISTER = `
import { register } from 'node:module';
register(process.env.HOOKS_URL, import.meta.url, { data: { log: process.env.IMPORT_LOG } });
`;

/** Loads the config with tsc's output, in a process of its own, printing the workers it got. */
const LOAD = `
import { register } from 'node:module';
const [hooks, log, dist, file] = process.argv.slice(2);
register(hooks, import.meta.url, { data: { log } });
const { loadConfig } = await import(dist + '/config/load.js');
const config = await loadConfig(file);
process.stdout.write(JSON.stringify(config.workers));
`;

/** A copy of the built package, so that its files can be touched as a new build would. */
function copyOfBuild(): string {
  const root = tempDir();
  cpSync(join(REPO, 'dist'), join(root, 'dist'), { recursive: true, filter: (src) => !src.includes('/dist/bundle') });
  cpSync(join(REPO, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  return root;
}

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackPid(child.pid);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('a config checked before', () => {
  it('is loaded without importing zod or jsonc-parser, until the build changes', async () => {
    const build = copyOfBuild();
    const work = tempDir();
    writeTree(work, {
      'hooks.mjs': HOOKS,
      'load.mjs': LOAD,
      'app/devsup.config.json': '{\n  // two workers\n  "workers": [{ "name": "api", "cmd": "node .", "grace": "2s" }, { "name": "test", "cmd": ["pytest"], "kind": "task", "dependsOn": ["api"] }],\n}\n',
    });
    const log = join(work, 'imports.log');
    const load = async (): Promise<{ workers: unknown; imported: string[] }> => {
      writeFileSync(log, '');
      const r = await run([join(work, 'load.mjs'), pathToFileURL(join(work, 'hooks.mjs')).href, log, pathToFileURL(join(build, 'dist')).href, join(work, 'app/devsup.config.json')]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      return { workers: JSON.parse(r.out), imported: [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))].sort() };
    };

    const first = await load();
    // Proves that the hook sees these imports: the first start needs both.
    expect(first.imported).toEqual(['jsonc-parser', 'zod']);
    const second = await load();
    expect(second.imported).toEqual([]);
    expect(second.workers).toEqual(first.workers);

    // A new build of the schema with the same version and size is another build.
    const schema = join(build, 'dist/config/schema.js');
    const t = statSync(schema).mtime.getTime() / 1000 + 5;
    utimesSync(schema, t, t);
    const rebuilt = await load();
    expect(rebuilt.imported).toEqual(['jsonc-parser', 'zod']);
    expect(rebuilt.workers).toEqual(first.workers);
    expect((await load()).imported).toEqual([]);
  });
});

describe('devsup up with a config checked before', () => {
  let running: DevsupProcess | undefined;
  afterEach(async () => {
    await running?.stop('SIGTERM');
    running = undefined;
  });

  it('starts from the bundle without importing zod or jsonc-parser, and still reloads an edited config', async () => {
    const work = tempDir();
    const app = join(work, 'app');
    const config = (names: string[]): string =>
      JSON.stringify({ workers: names.map((name) => ({ name, cmd: ['sleep', '60'], watch: ['src'] })) }, null, 2);
    writeTree(work, { 'hooks.mjs': HOOKS, 'register.mjs': REGISTER, 'app/src/x.txt': '', 'app/devsup.config.json': config(['a']) });
    const log = join(work, 'imports.log');
    const env = {
      NODE_OPTIONS: `--import=${pathToFileURL(join(work, 'register.mjs')).href}`,
      HOOKS_URL: pathToFileURL(join(work, 'hooks.mjs')).href,
      IMPORT_LOG: log,
    };
    const imported = (): string[] => [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))].sort();
    const start = async (): Promise<DevsupProcess> => {
      writeFileSync(log, '');
      running = new DevsupProcess(['up', '--json', '--no-tui'], { cwd: app, env });
      await running.waitForEvent((e) => e.type === 'worker-started' && e.worker === 'a', 'a started');
      return running;
    };

    await start();
    expect(imported()).toEqual(['jsonc-parser', 'zod']);
    await running!.stop('SIGTERM');
    const p = await start();
    expect(imported()).toEqual([]);

    writeFileSync(join(app, 'devsup.config.json'), config(['a', 'b']));
    await p.waitForEvent((e) => e.type === 'worker-started' && e.worker === 'b', 'b started after the reload');
    expect(imported()).toEqual(['jsonc-parser', 'zod']);
  });
});
