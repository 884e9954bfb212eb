import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import xtermHeadless from '@xterm/headless';
import * as pty from 'node-pty';
import { isAlive, trackPid } from '../helpers/procs.js';
import { compileSources } from '../helpers/compile.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const { Terminal } = xtermHeadless;
const repo = fileURLToPath(new URL('../../', import.meta.url));
const HARNESS = fileURLToPath(new URL('./harness.mjs', import.meta.url));

/** Sources the compiled dashboard is built from (its runtime imports outside its folder too). */
function sources(): string[] {
  const dir = join(repo, 'src/views/dashboard');
  const own = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => `views/dashboard/${f}`);
  return [...own, 'views/format.ts', 'views/glyphs.ts', 'core/errors.ts', 'core/ring.ts', 'process/lines.ts'];
}

/**
 * The compiled dashboard: dist/ when it is at least as new as every source (as after `npm test`'s
 * build), otherwise a private build in a temp dir, so a stale dist is never tested and dist is
 * never rewritten under other test files running at the same time.
 */
export function dashboardModule(): string {
  const fresh = sources().every((rel) => {
    const js = join(repo, 'dist', rel.replace(/\.ts$/, '.js'));
    return existsSync(js) && statSync(js).mtimeMs >= statSync(join(repo, 'src', rel)).mtimeMs;
  });
  if (fresh) return join(repo, 'dist/views/dashboard/index.js');
  try {
    return join(compileSources(['views/dashboard/index.ts'], 'devsup-dashboard-js-'), 'views/dashboard/index.js');
  } catch (err) {
    throw new Error(`dist is missing or older than src/views/dashboard, and building it failed (run npx tsc -p tsconfig.json): ${(err as Error).message}`);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

interface Reply {
  id: number;
  ok: boolean;
  result: unknown;
  error?: string;
}

/** The harness in a real pseudo-terminal, its screen as text, and its control socket. */
export class Rig {
  readonly term: InstanceType<typeof Terminal>;
  readonly proc: pty.IPty;
  readonly exit: Promise<{ exitCode: number; signal?: number }>;
  readonly callsFile: string;
  /** Whether the output ever left the alternate screen (`CSI ? 1049 l`). */
  leftAltScreen = false;
  /** Mouse reporting as the terminal was last told: on (`CSI ? 1000 h`) or off (`CSI ? 1000 l`). */
  mouseReporting: boolean | undefined;
  exited = false;
  private tail = '';
  private sock: Socket | undefined;
  private replies = new Map<number, (r: Reply) => void>();
  private nextId = 1;
  private readonly ctl: string;

  constructor(module: string, opts: { cols?: number; rows?: number; env?: Record<string, string> } = {}) {
    const dir = tempDir('devsup-dash-');
    this.callsFile = join(dir, 'calls.jsonl');
    writeFileSync(this.callsFile, '');
    this.ctl = join(dir, 'ctl.sock');
    const cols = opts.cols ?? 100;
    const rows = opts.rows ?? 30;
    this.term = new Terminal({ cols, rows, allowProposedApi: true });
    // A UTF-8 locale unless a test asks for another: the dashboard falls back to ASCII without one.
    const env = { ...process.env, LC_ALL: 'C.UTF-8', TERM: 'xterm-256color', DASH_MODULE: module, DASH_CALLS: this.callsFile, DASH_CTL: this.ctl, ...opts.env };
    this.proc = pty.spawn(process.execPath, [HARNESS], { name: 'xterm-256color', cols, rows, cwd: dir, env: env as Record<string, string> });
    trackPid(this.proc.pid);
    this.proc.onData((d) => {
      // Kept as a short tail only: a flood writes megabytes of screen updates.
      const seen = this.tail + d;
      if (seen.includes('\x1b[?1049l')) this.leftAltScreen = true;
      const on = seen.lastIndexOf('\x1b[?1000h');
      const off = seen.lastIndexOf('\x1b[?1000l');
      if (on >= 0 || off >= 0) this.mouseReporting = on > off;
      this.tail = seen.slice(-16);
      this.term.write(d);
    });
    this.exit = new Promise((resolve) =>
      this.proc.onExit((e) => {
        this.exited = true;
        resolve(e);
      }),
    );
  }

  /** Rows of the visible screen as text. */
  lines(): string[] {
    const b = this.term.buffer.active;
    return Array.from({ length: this.term.rows }, (_, y) => b.getLine(b.viewportY + y)?.translateToString(true) ?? '');
  }

  text(): string {
    return this.lines().join('\n');
  }

  /** Lets xterm finish parsing what it has been given. */
  flush(): Promise<void> {
    return new Promise((r) => this.term.write('', r));
  }

  async waitScreen(check: string | RegExp | ((text: string, lines: string[]) => boolean), what?: string, timeoutMs = 5000): Promise<void> {
    const test = typeof check === 'function' ? check : (t: string) => (typeof check === 'string' ? t.includes(check) : check.test(t));
    const label = what ?? String(check);
    try {
      await waitFor(async () => {
        await this.flush();
        return test(this.text(), this.lines());
      }, `screen to show ${label}`, timeoutMs, 5);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- screen ---\n${this.text()}`);
    }
  }

  press(keys: string): void {
    this.proc.write(keys);
  }

  resize(cols: number, rows: number): void {
    this.proc.resize(cols, rows);
    this.term.resize(cols, rows);
  }

  calls(): { call: string; args: unknown; t: number }[] {
    return readFileSync(this.callsFile, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { call: string; args: unknown; t: number });
  }

  async waitCall(call: string, args?: unknown): Promise<void> {
    const match = (c: { call: string; args: unknown }) => c.call === call && (args === undefined || JSON.stringify(c.args) === JSON.stringify(args));
    await waitFor(() => this.calls().some(match), `api call ${call}(${args === undefined ? '' : JSON.stringify(args)})`);
  }

  /** Waits for the dashboard to be up and its child known; tracks that child's pid. */
  async ready(): Promise<void> {
    await this.waitCall('started');
    for (const c of this.calls()) if (c.call === 'child') trackPid((c.args as number[])[0]);
  }

  /** Sends a command to the harness and waits for its answer. */
  async send<T = unknown>(cmd: Record<string, unknown>, timeoutMs = 15_000): Promise<T> {
    const sock = await this.connection();
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`harness did not answer ${JSON.stringify(cmd).slice(0, 80)}`)), timeoutMs);
      this.replies.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    sock.write(`${JSON.stringify({ ...cmd, id })}\n`);
    const r = await reply;
    if (!r.ok) throw new Error(`harness: ${r.error}`);
    return r.result as T;
  }

  private async connection(): Promise<Socket> {
    if (this.sock) return this.sock;
    const sock = await waitFor(
      () =>
        new Promise<Socket | null>((resolve) => {
          const s = connect(this.ctl);
          s.once('connect', () => resolve(s));
          s.once('error', () => resolve(null));
        }),
      'the harness control socket',
    );
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const r = JSON.parse(buf.slice(0, i)) as Reply;
        buf = buf.slice(i + 1);
        this.replies.get(r.id)?.(r);
        this.replies.delete(r.id);
      }
    });
    sock.on('error', () => undefined);
    this.sock = sock;
    return sock;
  }

  /** VmRSS and VmHWM (peak) of the harness process, in bytes. */
  memory(): { rss: number; peak: number } {
    const status = readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  }

  /** Ends the harness if a test left it running (the leftover-process check still sees it). */
  async close(): Promise<void> {
    this.sock?.destroy();
    if (!this.exited) {
      this.proc.kill('SIGKILL');
      await waitFor(() => this.exited, 'the harness to die', 5000);
    }
    // The harness's own child outlives a harness that crashed or was killed.
    const children = this.calls().flatMap((c) => (c.call === 'child' ? (c.args as number[]) : []));
    for (const pid of children) killQuietly(pid);
    await waitFor(() => !children.some(isAlive), 'the harness child to die', 5000);
    this.term.dispose();
  }
}
