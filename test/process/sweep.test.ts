import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStat } from '../../src/process/proc-start.js';
import { spawnChild } from '../../src/process/spawn.js';
import { captureTree, stopTree } from '../../src/process/stop-tree.js';
import { findTokenHolders, holdsToken } from '../../src/process/sweep.js';
import { newToken, TOKEN_VAR, tokenValue } from '../../src/process/token.js';
import { isAlive as pidAlive, trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { fixture } from './output.js';

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A child that starts a daemon the way `( setsid node server.js & )` does, then keeps running. */
async function daemonizing(extra = '') {
  const pidFile = join(tempDir(), 'daemon.pid');
  const command = `( ${extra} setsid ${q(process.execPath)} ${q(fixture('daemon.mjs'))} ${q(pidFile)} & ) ; exec ${q(process.execPath)} ${q(fixture('ready.mjs'))}`;
  const child = await spawnChild({ command, cwd: process.cwd(), env: {}, stdin: 'ignore', output: 'pipe' });
  trackPid(child.pid);
  child.stdout?.resume();
  child.stderr?.resume();
  const daemon = Number(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8'), 'daemon pid file'));
  trackPid(daemon);
  return { child, daemon };
}

/** A process started around devsup, with the given environment. */
function plain(env: Record<string, string>): number {
  const p = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
  trackPid(p.pid);
  return p.pid!;
}

describe('tree token', () => {
  it('a double-forked daemon, outside the parent chain and the group, is captured and stopped with its tree', async () => {
    const { child, daemon } = await daemonizing();
    const st = readStat(daemon)!;
    // It escaped everything parentage and groups can see.
    expect(st.ppid).not.toBe(child.pid);
    expect(st.pgid).not.toBe(child.pid);
    expect(holdsToken(daemon, child.token)).toBe(true);

    expect((await captureTree(child.id)).map((p) => p.pid)).toContain(daemon);
    const r = await stopTree(child.id, { graceMs: 2000 });
    expect(r.gaveUp).toBe(false);
    expect(pidAlive(daemon)).toBe(false);
    expect(pidAlive(child.pid)).toBe(false);
    expect(r.signalled.map((p) => p.pid)).toEqual(expect.arrayContaining([child.pid, daemon]));
  });

  it('a daemon started while the tree shuts down is stopped too: no holder is left when the stop returns', async () => {
    const pidFile = join(tempDir(), 'late.pid');
    const onTerm = `( setsid ${q(process.execPath)} ${q(fixture('daemon.mjs'))} ${q(pidFile)} & )`;
    const script = `process.on('SIGTERM', () => { require('child_process').spawn('sh', ['-c', ${JSON.stringify(onTerm)}], { stdio: 'ignore' }).on('exit', () => process.exit(0)); }); console.log('READY'); setInterval(() => {}, 1000);`;
    const child = await spawnChild({ command: [process.execPath, '-e', script], cwd: process.cwd(), env: {}, stdin: 'ignore', output: 'pipe' });
    trackPid(child.pid);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += String(d)));
    child.stderr?.resume();
    await waitFor(() => out.includes('READY'), 'child ready');
    const r = await stopTree(child.id, { graceMs: 3000 });
    expect(r.gaveUp).toBe(false);
    expect(await findTokenHolders(child.token)).toEqual([]);
    if (existsSync(pidFile)) expect(pidAlive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('finds holders whatever their parent, and only holders of this very token under its own name', async () => {
    const token = newToken();
    const holder = plain({ [TOKEN_VAR]: token });
    const nested = plain({ [TOKEN_VAR]: `${newToken()},${token}` });
    const otherName = plain({ NOT_THE_TOKEN: token });
    const otherToken = plain({ [TOKEN_VAR]: newToken() });
    await waitFor(() => [holder, nested, otherName, otherToken].every((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('setInterval')), 'all four exec');

    const found = (await findTokenHolders(token)).map((p) => p.pid);
    expect(found).toEqual(expect.arrayContaining([holder, nested]));
    expect(found).not.toContain(otherName);
    expect(found).not.toContain(otherToken);
    for (const p of [holder, nested, otherName, otherToken]) process.kill(p, 'SIGKILL');
    await waitFor(() => ![holder, nested, otherName, otherToken].some(pidAlive), 'all four gone');
  });

  it('a child of a devsup-run process keeps the outer tokens after its own, and nothing that is not a token', async () => {
    const outer = newToken();
    const own = newToken();
    expect(tokenValue(own, `${outer},not-a-token,${own}`)).toBe(`${own},${outer}`);
    expect(tokenValue(own, undefined)).toBe(own);
    const child = await spawnChild({ command: [process.execPath, '-e', `console.log(process.env.${TOKEN_VAR})`], cwd: process.cwd(), env: {}, stdin: 'ignore', output: 'pipe' });
    trackPid(child.pid);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += String(d)));
    child.stderr?.resume();
    await child.exited;
    await waitFor(() => out.includes('\n'), 'printed');
    expect(out.trim().split(',')[0]).toBe(child.token);
  });

  it('a process that removes the variable from process.env still holds the token; one exec-ed without it does not', async () => {
    const { child, daemon } = await daemonizing(`env -u ${TOKEN_VAR}`);
    // The documented limit: an environment scrubbed before exec leaves nothing to find.
    expect(holdsToken(daemon, child.token)).toBe(false);
    process.kill(daemon, 'SIGKILL');
    await stopTree(child.id, { graceMs: 2000 });

    const deleting = await spawnChild({
      command: [process.execPath, '-e', `delete process.env.${TOKEN_VAR}; console.log(process.env.${TOKEN_VAR} ?? 'gone'); setInterval(() => {}, 1 << 30)`],
      cwd: process.cwd(),
      env: {},
      stdin: 'ignore',
      output: 'pipe',
    });
    trackPid(deleting.pid);
    let out = '';
    deleting.stdout?.on('data', (d: Buffer) => (out += String(d)));
    deleting.stderr?.resume();
    await waitFor(() => out.includes('gone'), 'variable deleted');
    expect(holdsToken(deleting.pid, deleting.token)).toBe(true);
    await stopTree(deleting.id, { graceMs: 2000 });
    expect(pidAlive(deleting.pid)).toBe(false);
  });
});
