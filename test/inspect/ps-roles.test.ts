import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { procId, procStartMs } from '../../src/process/proc-start.js';
import { signalIfAlive } from '../../src/process/stop-tree.js';
import type { ProcId } from '../../src/process/types.js';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { trackPid } from '../helpers/procs.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { IDLE_JS, alive, gone } from './project.js';

interface Proc {
  pid: number;
  role: string;
  what: string;
  verdict: string;
  evidence: string | null;
  supervisedBy: null | { supervisorPid: number; worker?: string; verdict: string };
}
interface PsDoc {
  processes: Proc[];
  staleCount: number;
  kill: null | { outcomes: { pid: number; result: string; reason?: string }[] };
}

const NODEMON = fileURLToPath(new URL('../../node_modules/nodemon/bin/nodemon.js', import.meta.url));

async function ps(root: string, extra: string[] = []): Promise<{ code: number | null; doc: PsDoc; stderr: string }> {
  const r = await runDevsup(['ps', '--json', ...extra], root);
  return { code: r.code, doc: JSON.parse(r.stdout) as PsDoc, stderr: r.stderr };
}

const find = (doc: PsDoc, pid: number | undefined) => doc.processes.find((p) => p.pid === pid);

/** A process group started like a shell job, with every `ready pid=N` it prints tracked and collected. */
class Job {
  readonly proc: ChildProcess;
  readonly readyPids: number[] = [];
  private out = '';

  constructor(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
    this.proc = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    trackPid(this.proc.pid);
    const onData = (c: string) => {
      this.out += c;
      for (const m of c.matchAll(/ready pid=(\d+)/g)) {
        trackPid(Number(m[1]));
        this.readyPids.push(Number(m[1]));
      }
    };
    this.proc.stdout!.setEncoding('utf8').on('data', onData);
    this.proc.stderr!.setEncoding('utf8').on('data', (c: string) => (this.out += c));
  }

  async ready(count = 1): Promise<number> {
    await waitFor(() => this.readyPids.length >= count, `${count} ready line(s); output so far: ${this.out}`, 15_000);
    return this.readyPids[count - 1]!;
  }

  /** SIGKILLs the whole group and every process that reported itself, and waits until they are gone. */
  async kill(): Promise<void> {
    const ids = [this.proc.pid!, ...this.readyPids].map((pid) => procId(pid)).filter((id): id is ProcId => id !== undefined);
    try {
      process.kill(-this.proc.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
    for (const id of ids) signalIfAlive(id, 'SIGKILL');
    for (const id of ids) await gone(id, 'a process of the job');
  }
}

describe('devsup ps: supervisors, wrappers and what they run', () => {
  it('lists a devsup supervisor as such and its child with devsup\'s own verdict; --kill spares both', async () => {
    const root = tempDir('devsup-ps-sup-');
    writeTree(root, { 't.js': IDLE_JS, 'lib.js': 'exports.v = 1;\n' });
    const dev = new DevsupProcess(['run', '--', process.execPath, 't.js'], { cwd: root });
    try {
      const first = Number(/ready pid=(\d+)/.exec(await dev.waitForLine(/ready pid=\d+/, 'the child ready', 15_000))![1]);
      // An edit: devsup restarts its child, which is fresh again; devsup itself started before the edit.
      writeFileSync(`${root}/lib.js`, 'exports.v = 2;\n');
      await dev.waitForCount(/ready pid=\d+/, 2, 'the restarted child', 15_000);
      const child = Number(/ready pid=(\d+)/.exec(dev.lines.filter((l) => /ready pid=/.test(l.text))[1]!.text)![1]);
      expect(child).not.toBe(first);

      const { code, doc } = await ps(root);
      expect(code).toBe(0);
      expect(find(doc, dev.proc.pid)).toMatchObject({ role: 'supervisor', what: 'devsup run', verdict: 'none', evidence: null });
      expect(find(doc, child)).toMatchObject({
        role: 'supervised',
        verdict: 'fresh',
        evidence: 'devsup',
        supervisedBy: { supervisorPid: dev.proc.pid, worker: expect.any(String), verdict: 'fresh' },
      });
      expect(doc.staleCount).toBe(0);

      const doctor = await runDevsup(['doctor', '--json'], root);
      expect(doctor.code, doctor.stdout).toBe(0);
      expect(JSON.parse(doctor.stdout)).toMatchObject({ staleProcesses: [] });

      const kill = await ps(root, ['--kill', '--yes']);
      expect(kill.code).toBe(0);
      expect(kill.doc.kill?.outcomes).toEqual([]);
      const devId = procId(dev.proc.pid!);
      const childId = procId(child);
      expect(alive(devId), dev.text()).toBe(true);
      expect(alive(childId), `pid ${child}\n${dev.text()}`).toBe(true);
    } finally {
      await dev.stop();
    }
  });

  it("never judges a process in devsup's tree by file times: one being stopped is unknown, not stale, and not killed", async () => {
    const root = tempDir('devsup-ps-stopping-');
    writeTree(root, {
      't.js': `process.on('SIGTERM', () => {});\n${IDLE_JS}`,
      'lib.js': 'exports.v = 1;\n',
    });
    const dev = new DevsupProcess(['run', '--grace', '4000', '--', process.execPath, 't.js'], { cwd: root });
    try {
      const old = Number(/ready pid=(\d+)/.exec(await dev.waitForLine(/ready pid=\d+/, 'the child ready', 15_000))![1]);
      await waitFor(() => Date.now() > procStart(old) + 150, 'a moment past the start');
      writeFileSync(`${root}/lib.js`, 'exports.v = 2;\n');
      // It ignores SIGTERM, so it lives out the grace period while devsup stops it.
      await waitFor(async () => (await runDevsup(['status'], root)).stdout.includes('stopping'), 'devsup to be stopping the child', 10_000);
      const { code, doc } = await ps(root, ['--kill', '--yes']);
      expect(code).toBe(0);
      expect(find(doc, old)).toMatchObject({
        role: 'supervised',
        verdict: 'unknown',
        evidence: 'devsup',
        supervisedBy: { supervisorPid: dev.proc.pid, reason: expect.stringMatching(/being stopped/) },
      });
      expect(doc.kill!.outcomes).toEqual([]);
      expect(alive(procId(old))).toBe(true);
      expect(find(doc, dev.proc.pid)).toMatchObject({ role: 'supervisor', verdict: 'none' });
      expect(alive(procId(dev.proc.pid!))).toBe(true);
    } finally {
      await dev.stop('SIGINT', 15_000);
    }
  });

  it('never calls nodemon, node --watch, a shell running a command or timeout stale; the node they run is judged', async () => {
    const root = tempDir('devsup-ps-wrap-');
    writeTree(root, { 'idle.js': IDLE_JS });
    const jobs = [
      new Job([process.execPath, NODEMON, '--quiet', 'idle.js'], root),
      new Job([process.execPath, '--watch', 'idle.js'], root),
      new Job(['sh', '-c', `${process.execPath} idle.js; exit 0`], root),
      new Job(['timeout', '120', process.execPath, 'idle.js'], root),
    ];
    const [nodemon, watch, shell, timeout] = jobs as [Job, Job, Job, Job];
    try {
      for (const j of jobs) await j.ready();
      await waitFor(() => Date.now() > Math.max(...jobs.map((j) => procStart(j.readyPids[0]!))) + 150, 'a moment past every start');
      writeFileSync(`${root}/idle.js`, `${IDLE_JS}// edited\n`);
      // The supervisors restart what they run; the wrappers do not.
      await nodemon.ready(2);
      await watch.ready(2);

      const { code, doc } = await ps(root);
      expect(code).toBe(1);
      const row = (pid: number | undefined) => {
        const p = find(doc, pid);
        return p && [p.role, p.what, p.verdict];
      };
      expect(row(nodemon.proc.pid)).toEqual(['supervisor', 'nodemon', 'none']);
      expect(row(watch.proc.pid)).toEqual(['supervisor', 'node --watch', 'none']);
      expect(row(shell.proc.pid)).toEqual(['wrapper', 'sh -c', 'none']);
      expect(row(timeout.proc.pid)).toEqual(['wrapper', 'timeout', 'none']);
      expect(row(nodemon.readyPids[1])).toEqual(['runner', 'node', 'fresh']);
      expect(row(watch.readyPids[1])).toEqual(['runner', 'node', 'fresh']);
      expect(row(shell.readyPids[0])).toEqual(['runner', 'node', 'stale']);
      expect(row(timeout.readyPids[0])).toEqual(['runner', 'node', 'stale']);
      expect(doc.staleCount).toBe(2);

      const kill = await ps(root, ['--kill', '--yes']);
      expect(kill.code, kill.stderr).toBe(0);
      expect(kill.doc.kill!.outcomes.map((o) => [o.pid, o.result]).sort()).toEqual(
        [[shell.readyPids[0], 'stopped'], [timeout.readyPids[0], 'stopped']].sort(),
      );
      await gone(procId(shell.readyPids[0]!), 'the stale node under sh');
      for (const pid of [nodemon.proc.pid!, watch.proc.pid!, nodemon.readyPids[1]!, watch.readyPids[1]!]) {
        expect(alive(procId(pid)), `pid ${pid}`).toBe(true);
      }
    } finally {
      for (const j of jobs) await j.kill();
    }
  });

  it("calls flask's reloader a supervisor, but judges a python program that merely forks itself, parent and child", async () => {
    const root = tempDir('devsup-ps-flask-');
    writeTree(root, {
      'app.py': 'import os\nfrom flask import Flask\nprint("ready pid=%d" % os.getpid(), flush=True)\napp = Flask(__name__)\n',
      'pool.py': 'import os, time\nif os.fork() == 0:\n    print("ready pid=%d" % os.getpid(), flush=True)\nelse:\n    print("ready pid=%d" % os.getpid(), flush=True)\ntime.sleep(120)\n',
    });
    const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };
    const flask = new Job(['python3', '-m', 'flask', '--app', 'app', 'run', '--debug', '--port', '0'], root, env);
    const pool = new Job(['python3', 'pool.py'], root, env);
    try {
      // The reloader imports the app too, then starts the child that serves.
      await flask.ready(2);
      await pool.ready(2);
      const [reloader, server] = flask.readyPids as [number, number];
      // werkzeug's stat reloader takes the mtimes it compares with on its first pass, a second in.
      await waitFor(() => Date.now() > procStart(server) + 1500 && Date.now() > procStart(pool.proc.pid!) + 150, 'the reloader past its first pass', 5_000);
      writeFileSync(`${root}/app.py`, `${'# edited\n'}import os\nfrom flask import Flask\nprint("ready pid=%d" % os.getpid(), flush=True)\napp = Flask(__name__)\n`);
      const restarted = await flask.ready(3);

      const { doc } = await ps(root);
      const row = (pid: number | undefined) => {
        const p = find(doc, pid);
        return p && [p.role, p.what, p.verdict];
      };
      expect(row(reloader)).toEqual(['supervisor', 'flask reloader', 'none']);
      expect(row(restarted)).toEqual(['runner', 'flask', 'fresh']);
      expect(find(doc, server)).toBeUndefined();
      // app.py is a Python file either half of the forked program could import: both are judged, alike.
      expect(pool.readyPids.map(row)).toEqual([
        ['runner', 'python', 'stale'],
        ['runner', 'python', 'stale'],
      ]);
    } finally {
      await flask.kill();
      await pool.kill();
    }
  });
});

function procStart(pid: number): number {
  const ms = procStartMs(pid);
  if (ms === undefined) throw new Error(`pid ${pid} is gone`);
  return ms;
}
