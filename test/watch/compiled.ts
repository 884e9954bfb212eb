import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';

const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * Compiles src/watch to plain JS in a temp dir, so a test can run it in a separate Node process
 * (to see that the process exits by itself, or to run it as an unprivileged user).
 * Returns the directory that holds the compiled watch/*.js files.
 */
export async function compileWatch(): Promise<string> {
  const dir = tempDir('devsup-watch-js-');
  // Readable by an unprivileged user too (mkdtemp makes it 0700).
  chmodSync(dir, 0o755);
  const tsconfig = {
    extends: join(repo, 'tsconfig.json'),
    compilerOptions: { rootDir: join(repo, 'src'), outDir: join(dir, 'out'), sourceMap: false },
    include: [],
    files: ['watcher.ts', 'walk.ts', 'filter.ts'].map((f) => join(repo, 'src/watch', f)),
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  const tsc = join(repo, 'node_modules/typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { timeout: 60_000 });
  const out = join(dir, 'out/watch');
  if (!existsSync(join(out, 'watcher.js'))) throw new Error(`tsc produced no ${out}/watcher.js`);
  return out;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** False when the child had to be killed because it did not exit in time. */
  exitedByItself: boolean;
}

/** Runs an ES module script in a child Node process and waits (bounded) for it to exit on its own. */
export function runScript(
  scriptPath: string,
  args: string[],
  opts: { timeoutMs: number; uid?: number; gid?: number },
): Promise<ChildResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [scriptPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
    });
    trackPid(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr, exitedByItself: !killed });
    });
  });
}
