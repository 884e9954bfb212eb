import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

const PRINT = "console.log('VARS pid=' + process.pid + ' gen=' + process.env.DEVSUP_GENERATION + ' A=' + process.env.A + ' B=' + process.env.B + ' C=' + process.env.C); setInterval(() => {}, 1000);";

describe('env files', () => {
  it('run --env-file: files override devsup\'s environment, later files win, an edit restarts with the new values', async () => {
    const root = tempDir();
    // The usual case: .env is gitignored, and still watched because it was named.
    writeTree(root, { '.gitignore': '.env*\n', 'app.js': PRINT, '.env': 'A=file\nB=file\n', '.env.local': 'B=local\n' });
    const p = new DevsupProcess(['run', '--env-file', '.env', '--env-file', '.env.local', '--', 'node', 'app.js'], {
      cwd: root,
      env: { A: 'shell', C: 'shell' },
    });
    running.push(p);
    await p.waitForLine(/VARS .* gen=1 A=file B=local C=shell/);
    writeFileSync(join(root, '.env'), 'A=edited\nB=file\n');
    await p.waitForLine(/VARS .* gen=2 A=edited B=local C=shell/);
  });

  it('run refuses an env file that does not exist, before starting anything', async () => {
    const root = tempDir();
    const r = await runDevsup(['run', '--env-file', 'nope.env', '--', 'node', '-e', '0'], root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('env file does not exist: nope.env');
  });

  it('run and up refuse a named pipe as an env file at once: reading it would block every start', async () => {
    const root = tempDir();
    execFileSync('mkfifo', [join(root, 'cfg.fifo')]);
    const r = await runDevsup(['run', '--env-file', 'cfg.fifo', '--', 'node', '-e', '0'], root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('env file is not a regular file (a named pipe or a device): cfg.fifo');
    writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers: [{ name: 'a', cmd: ['node', '-e', '0'], envFile: 'cfg.fifo' }] }));
    const u = await runDevsup(['up', '--no-tui'], root);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('not a regular file (a named pipe or a device)');
  });

  it('up: env wins over envFile, which wins over devsup\'s environment; an edit restarts only its reader', async () => {
    const root = tempDir();
    writeTree(root, {
      'app.js': PRINT,
      'cfg/.env': 'A=file\nB=file\n',
      'devsup.config.json': JSON.stringify({
        workers: [
          { name: 'reader', cmd: ['node', 'app.js'], watch: ['app.js'], envFile: 'cfg/.env', env: { B: 'config' } },
          { name: 'other', cmd: ['node', 'app.js'], watch: ['app.js'] },
        ],
      }),
    });
    const p = new DevsupProcess(['up', '--json'], { cwd: root, env: { A: 'shell', C: 'shell' } });
    running.push(p);
    await p.waitForLine(/VARS .* gen=1 A=file B=config C=shell/);
    await p.waitForLine(/VARS .* gen=1 A=shell B=undefined C=shell/);
    writeFileSync(join(root, 'cfg/.env'), 'A=edited\n');
    await p.waitForLine(/VARS .* gen=2 A=edited B=config C=shell/);
    // Proving the other worker was left alone needs a bounded wait past the settle time.
    await new Promise((r) => setTimeout(r, 600));
    const starts = p.events().filter((e) => e.type === 'worker-started');
    expect(starts.filter((e) => e.worker === 'other')).toHaveLength(1);
  });
});
