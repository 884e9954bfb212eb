import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trackPid } from './procs.js';
import { waitFor } from './wait.js';

export const BIN = fileURLToPath(new URL('../../bin/devsup.js', import.meta.url));

export interface Line {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** A real `bin/devsup.js` process with its output collected line by line. */
export class DevsupProcess {
  readonly proc: ChildProcess;
  /** The most recent lines (a flooding child must not exhaust the test's memory). */
  readonly lines: Line[] = [];
  /** Every line seen, including those dropped from `lines`. */
  total = 0;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exited = false;

  constructor(args: string[], opts: { cwd: string; env?: Record<string, string | undefined> }) {
    // `--` as in bin/devsup.js's shebang: node 20 would otherwise take a later `--env-file` for its own.
    this.proc = spawn(process.execPath, ['--', BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    trackPid(this.proc.pid);
    for (const stream of ['stdout', 'stderr'] as const) {
      let buf = '';
      this.proc[stream]!.setEncoding('utf8');
      this.proc[stream]!.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          this.onLine({ stream, text: buf.slice(0, i) });
          buf = buf.slice(i + 1);
        }
      });
    }
    this.exit = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exited = true;
        resolve({ code, signal });
      });
    });
  }

  private onLine(line: Line): void {
    this.total++;
    this.lines.push(line);
    if (this.lines.length > 20_000) this.lines.splice(0, 10_000);
    // Every pid a child reports is tracked, so a survivor fails the test.
    for (const m of line.text.matchAll(/\b(?:pid|grandchild)=(\d+)/g)) trackPid(Number(m[1]));
    if (line.text.startsWith('{')) {
      try {
        const e = JSON.parse(line.text) as { pid?: number };
        if (typeof e.pid === 'number') trackPid(e.pid);
      } catch {
        /* not an event */
      }
    }
  }

  /** Parsed JSON events (with --json). */
  events(): Array<Record<string, unknown> & { type: string }> {
    const out: Array<Record<string, unknown> & { type: string }> = [];
    for (const l of this.lines) {
      if (l.stream !== 'stdout' || !l.text.startsWith('{')) continue;
      try {
        out.push(JSON.parse(l.text) as Record<string, unknown> & { type: string });
      } catch {
        /* child output */
      }
    }
    return out;
  }

  text(stream?: 'stdout' | 'stderr'): string {
    return this.lines.filter((l) => !stream || l.stream === stream).map((l) => l.text).join('\n');
  }

  async waitForLine(re: RegExp, what = String(re), timeoutMs = 10_000): Promise<string> {
    return waitFor(() => this.lines.find((l) => re.test(l.text))?.text, `${what}\n--- output so far ---\n${this.text()}`, timeoutMs);
  }

  /** Waits until `count` lines match. */
  async waitForCount(re: RegExp, count: number, what = String(re), timeoutMs = 10_000): Promise<string[]> {
    return waitFor(
      () => {
        const hits = this.lines.filter((l) => re.test(l.text)).map((l) => l.text);
        return hits.length >= count ? hits : undefined;
      },
      `${count} × ${what}\n--- output so far ---\n${this.text()}`,
      timeoutMs,
    );
  }

  async waitForEvent(pred: (e: Record<string, unknown> & { type: string }) => boolean, what: string, timeoutMs = 10_000) {
    return waitFor(() => this.events().find(pred), `${what}\n--- output so far ---\n${this.text()}`, timeoutMs);
  }

  write(text: string): void {
    this.proc.stdin!.write(text);
  }

  /** Sends a signal and waits for devsup to exit. */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 10_000): Promise<number | null> {
    if (!this.exited) this.proc.kill(signal);
    const res = await Promise.race([
      this.exit,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`devsup did not exit within ${timeoutMs} ms of ${signal}\n${this.text()}`)), timeoutMs)),
    ]);
    return res.code;
  }
}

/** Runs devsup to completion (for commands that should exit by themselves). */
export async function runDevsup(args: string[], cwd: string, timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = new DevsupProcess(args, { cwd });
  p.proc.stdin!.end();
  const res = await Promise.race([
    p.exit,
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`devsup ${args.join(' ')} did not exit\n${p.text()}`)), timeoutMs)),
  ]);
  return { code: res.code, stdout: p.text('stdout'), stderr: p.text('stderr') };
}
