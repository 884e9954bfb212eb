import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/compile.js';
import { isAlive, trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

describe('devsup run whose output reader goes away (| head, a closed pager)', () => {
  it('stops the whole tree and ends with 141 instead of dying with the child left running', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'value.js'), 'module.exports = 1;\n');
    writeFileSync(join(root, 'app.js'), "console.log('READY pid=' + process.pid + ' value=' + require('./value.js')); setInterval(() => {}, 1000);\n");
    const p = spawn(process.execPath, [join(REPO, 'bin/devsup.js'), 'run', '--', 'node', 'app.js'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    trackPid(p.pid);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => p.on('exit', (code, signal) => r({ code, signal })));
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const child = Number(await waitFor(() => /READY pid=(\d+)/.exec(out)?.[1], `the child's READY\n${out}`));
    trackPid(child);
    // The reader closes both pipes, as `devsup run … 2>&1 | head -2` does once it has its lines.
    p.stdout.destroy();
    p.stderr.destroy();
    writeFileSync(join(root, 'value.js'), 'module.exports = 2;\n');
    const res = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`devsup did not end\n${out}`)), 15_000))]);
    expect(res).toEqual({ code: 141, signal: null });
    await waitFor(() => !isAlive(child), 'the child gone with devsup');
  }, 30_000);
});
