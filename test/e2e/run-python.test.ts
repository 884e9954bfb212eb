import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

const MAIN = [
  'import signal, sys, time, json, email.parser',
  'signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))',
  'import mod',
  "print(f'VALUE={mod.X} gen={__import__(\"os\").environ.get(\"DEVSUP_GENERATION\")}', flush=True)",
  'while True: time.sleep(1)',
].join('\n');

/** Rewrites mod.py with content of the same size and the same whole-second mtime as before. */
function sameSizeSameSecondEdit(file: string, content: string): void {
  const before = statSync(file);
  writeFileSync(file, content);
  const sec = Math.floor(before.mtimeMs / 1000) + 0.5;
  utimesSync(file, sec, sec);
}

/** This machine may set PYTHONDONTWRITEBYTECODE; the children must be allowed to write bytecode. */
const WRITE_BYTECODE = { PYTHONDONTWRITEBYTECODE: undefined, PYTHONPYCACHEPREFIX: undefined };

function compile(root: string): void {
  execFileSync('python3', ['-c', 'import py_compile; py_compile.compile("mod.py")'], { cwd: root });
}

function plainPython(root: string): string {
  return execFileSync('python3', ['-c', 'import mod; print(mod.X)'], { cwd: root, encoding: 'utf8', env: { ...process.env, PYTHONPYCACHEPREFIX: '' } }).trim();
}

describe('devsup run: Python bytecode never lies', () => {
  it('a python3 child runs the new code after a same-size, same-second edit', async () => {
    const root = tempDir();
    writeTree(root, { 'main.py': MAIN, 'mod.py': 'X = "aaa"\n' });
    compile(root);
    sameSizeSameSecondEdit(join(root, 'mod.py'), 'X = "bbb"\n');
    // The trap is live: Python on its own trusts the stale .pyc.
    expect(plainPython(root)).toBe('aaa');

    const p = new DevsupProcess(['run', '--json', '--', 'python3', 'main.py'], { cwd: root, env: WRITE_BYTECODE });
    running.push(p);
    await p.waitForLine(/^VALUE=bbb gen=1$/, 'first generation runs the code on disk');
    sameSizeSameSecondEdit(join(root, 'mod.py'), 'X = "ccc"\n');
    await p.waitForLine(/^VALUE=ccc gen=2$/, 'second generation runs the edited code');
    sameSizeSameSecondEdit(join(root, 'mod.py'), 'X = "ddd"\n');
    await p.waitForLine(/^VALUE=ddd gen=3$/, 'third generation runs the edited code');
    // The user's __pycache__ is left alone unless asked.
    expect(existsSync(join(root, '__pycache__'))).toBe(true);
  });

  it('keeps one bytecode directory across generations and runs: the standard library is compiled once', async () => {
    const root = tempDir();
    writeTree(root, { 'main.py': MAIN, 'mod.py': 'X = "aaa"\n' });
    const prefix = join(root, '.devsup', 'pycache', 'w-main');
    const parserPyc = () => {
      const dir = join(prefix, dirname(emailParser()));
      const name = readdirSync(dir).find((n) => /^parser\.cpython-\d+\.pyc$/.test(n));
      return join(dir, name!);
    };
    const p = new DevsupProcess(['run', '--json', '--', 'python3', 'main.py'], { cwd: root, env: WRITE_BYTECODE });
    running.push(p);
    await p.waitForLine(/^VALUE=aaa gen=1$/);
    const ino = statSync(parserPyc()).ino;
    writeFileSync(join(root, 'mod.py'), 'X = "bbbb"\n');
    await p.waitForLine(/^VALUE=bbbb gen=2$/);
    expect(statSync(parserPyc()).ino).toBe(ino);
    await p.stop('SIGTERM');
    // The next run of devsup starts from the same directory.
    const again = new DevsupProcess(['run', '--json', '--', 'python3', 'main.py'], { cwd: root, env: WRITE_BYTECODE });
    running.push(again);
    await again.waitForLine(/^VALUE=bbbb gen=1$/);
    expect(statSync(parserPyc()).ino).toBe(ino);
  });

  it('--clear python removes __pycache__ before the start', async () => {
    const root = tempDir();
    writeTree(root, { 'main.py': MAIN, 'mod.py': 'X = "aaa"\n' });
    compile(root);
    const p = new DevsupProcess(['run', '--json', '--clear', 'python', '--', 'python3', 'main.py'], { cwd: root });
    running.push(p);
    await p.waitForLine(/^VALUE=aaa gen=1$/);
    const cleared = p.events().find((e) => e.type === 'caches-cleared');
    expect(cleared?.paths).toEqual([join(root, '__pycache__')]);
    expect(cleared?.bytes as number).toBeGreaterThan(0);
    expect(existsSync(join(root, '__pycache__'))).toBe(false);
    expect(readFileSync(join(root, 'mod.py'), 'utf8')).toBe('X = "aaa"\n');
  });
});

/** Where this python3 has email/parser.py. */
function emailParser(): string {
  return execFileSync('python3', ['-c', 'import email.parser as m; print(m.__file__)'], { encoding: 'utf8' }).trim();
}
