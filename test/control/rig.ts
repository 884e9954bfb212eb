import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN } from '../helpers/devsup.js';
import { trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const HARNESS = fileURLToPath(new URL('./harness.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/control/server.js', import.meta.url));

export type Ev = Record<string, unknown> & { type: string };

export interface WorkerSpec {
  name: string;
  command: string[] | string;
  kind?: 'service' | 'task';
  env?: Record<string, string>;
  ready?: { log: string };
  restartOnChange?: boolean;
  onExit?: 'wait' | 'restart' | 'quit';
  graceMs?: number;
  watch?: string[];
  ignore?: string[];
}

export interface HarnessSpec {
  root: string;
  name?: string;
  settleMs?: number;
  childrenRefreshMs?: number;
  /** The first look of every tree waits until this file exists. */
  lookGate?: string;
  workers: WorkerSpec[];
}

/** Output of a process, line by line; every pid it mentions is tracked so a survivor fails the test. */
class Lines {
  readonly lines: { stream: 'stdout' | 'stderr'; text: string }[] = [];

  constructor(proc: ChildProcess) {
    for (const stream of ['stdout', 'stderr'] as const) {
      let buf = '';
      proc[stream]!.setEncoding('utf8');
      proc[stream]!.on('data', (chunk: string) => {
        buf += chunk;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          this.add(stream, buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    }
  }

  private add(stream: 'stdout' | 'stderr', text: string): void {
    this.lines.push({ stream, text });
    for (const m of text.matchAll(/\b(?:pid|grandchild)=(\d+)/g)) trackPid(Number(m[1]));
    for (const m of text.matchAll(/"pid":(\d+)/g)) trackPid(Number(m[1]));
  }

  text(stream?: 'stdout' | 'stderr'): string {
    return this.lines.filter((l) => !stream || l.stream === stream).map((l) => l.text).join('\n');
  }

  events(): Ev[] {
    const out: Ev[] = [];
    for (const l of this.lines) {
      if (l.stream !== 'stdout' || !l.text.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l.text) as Ev);
      } catch {
        /* not JSON */
      }
    }
    return out;
  }
}

/** A supervisor with its control server, in its own process (so it can be SIGKILLed). */
export class Harness {
  readonly proc: ChildProcess;
  readonly out: Lines;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  socketPath = '';

  constructor(readonly spec: HarnessSpec, env: Record<string, string | undefined> = {}) {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first`);
    const file = join(tempDir('devsup-harness-'), 'spec.json');
    writeFileSync(file, JSON.stringify(spec));
    this.proc = spawn(process.execPath, [HARNESS, file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    trackPid(this.proc.pid);
    this.out = new Lines(this.proc);
    this.exit = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  events(): Ev[] {
    return this.out.events();
  }

  async ready(): Promise<this> {
    const ev = await this.waitEvent((e) => e.type === 'harness-ready', 'harness ready', 15_000);
    this.socketPath = String(ev.socketPath);
    return this;
  }

  waitEvent(pred: (e: Ev) => boolean, what: string, timeoutMs = 10_000): Promise<Ev> {
    return waitFor(() => this.events().find(pred), `${what}\n--- harness output ---\n${this.out.text()}`, timeoutMs);
  }

  count(pred: (e: Ev) => boolean): number {
    return this.events().filter(pred).length;
  }

  /** Asks it to shut down and waits; a harness that does not exit in time fails the test. */
  async stop(timeoutMs = 10_000): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    const r = await Promise.race([
      this.exit,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`harness did not exit within ${timeoutMs} ms\n${this.out.text()}`)), timeoutMs)),
    ]);
    return r.code;
  }
}

let running: Harness[] = [];

export async function startHarness(spec: HarnessSpec, env?: Record<string, string | undefined>): Promise<Harness> {
  const h = new Harness(spec, env);
  running.push(h);
  return h.ready();
}

/** For afterEach: every harness still up is stopped. */
export async function stopHarnesses(): Promise<void> {
  const all = running;
  running = [];
  for (const h of all) await h.stop().catch(() => h.proc.kill('SIGKILL'));
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A real `bin/devsup.js` control command, run to completion. */
export class Cli {
  readonly proc: ChildProcess;
  readonly out: Lines;
  readonly exit: Promise<CliResult>;

  constructor(args: string[], opts: { cwd: string; env?: Record<string, string | undefined> }) {
    this.proc = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackPid(this.proc.pid);
    this.out = new Lines(this.proc);
    this.exit = new Promise((resolve) =>
      this.proc.once('close', (code) => resolve({ code, stdout: this.out.text('stdout'), stderr: this.out.text('stderr') })),
    );
  }
}

export async function devsup(args: string[], cwd: string, opts: { env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<CliResult> {
  const c = new Cli(args, { cwd, env: opts.env });
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return Promise.race([
    c.exit,
    new Promise<never>((_, rej) =>
      setTimeout(() => {
        c.proc.kill('SIGKILL');
        rej(new Error(`devsup ${args.join(' ')} did not exit within ${timeoutMs} ms\n${c.out.text()}`));
      }, timeoutMs),
    ),
  ]);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
