import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, runDevsup } from '../helpers/devsup.js';
import { isAlive, trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const started: number[] = [];
afterEach(async () => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await waitFor(() => !isAlive(pid), `devsup ${pid} stopped`, 15_000);
  }
});

/** `devsup <args>` in `root`, its stdout and stderr going to `file` inside the project. */
function redirected(root: string, file: string, args: string[]): { read(): string } {
  const fd = openSync(join(root, file), 'a');
  const p = spawn(process.execPath, ['--', BIN, ...args], { cwd: root, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  trackPid(p.pid);
  started.push(p.pid!);
  return { read: () => readFileSync(join(root, file), 'utf8') };
}

const APP = "console.log('READY pid=' + process.pid); setInterval(() => {}, 1000);";
const starts = (text: string) => text.match(/READY pid=\d+/g) ?? [];

describe("devsup's own output written into the project", () => {
  it('`devsup up > out.txt`: the file that grows with every line devsup prints is not watched, so nothing loops', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'app.js'), APP);
    writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers: [{ name: 'app', cmd: ['node', 'app.js'] }] }));
    const out = redirected(root, 'out.txt', ['up', '--no-tui']);
    await waitFor(() => starts(out.read()).length >= 1, 'the first start in out.txt', 15_000);
    for (const m of starts(out.read())) trackPid(Number(m.slice(10)));
    // Each start writes to out.txt; were it watched, a restart would follow within the settle window.
    await new Promise((r) => setTimeout(r, 1500));
    expect(starts(out.read())).toHaveLength(1);
    // Never watched is not "left out after a loop": status has nothing to say about it.
    expect((await runDevsup(['status'], root)).stdout).not.toMatch(/not watched/);
    // Everything else is still watched.
    writeFileSync(join(root, 'app.js'), `${APP}\n// edited\n`);
    await waitFor(() => starts(out.read()).length === 2, 'a restart for the edit', 15_000);
    for (const m of starts(out.read())) trackPid(Number(m.slice(10)));
  });

  it('`devsup run -- … > log.txt`: the same for run, whose child writes to that file too', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'app.js'), APP);
    const out = redirected(root, 'log.txt', ['run', '--', 'node', 'app.js']);
    await waitFor(() => starts(out.read()).length >= 1, 'the first start in log.txt', 15_000);
    for (const m of starts(out.read())) trackPid(Number(m.slice(10)));
    await new Promise((r) => setTimeout(r, 1500));
    expect(starts(out.read())).toHaveLength(1);
  });
});
