import { droppedSentence, OutputGate } from '../../core/behind.js';
import { UsageError } from '../../core/errors.js';
import type { LogLine } from '../../supervisor/api.js';
import { safeChildText } from '../../views/child-text.js';
import { colourWanted } from '../../views/style.js';
import type { ControlOptions } from './commands.js';
import { connectFromCwd, withClient } from './connect.js';

export async function restartCommand(workers: string[], opts: ControlOptions & { all?: boolean }): Promise<number> {
  if (opts.all && workers.length > 0) throw new UsageError('give worker names or --all, not both');
  const names = workers.length === 0 ? 'all' : workers;
  await withClient(opts.name, (c) => c.restart(names));
  process.stderr.write(`restarted ${names === 'all' ? 'all workers' : names.join(', ')}\n`);
  return 0;
}

export async function stopStartCommand(verb: 'stop' | 'start', worker: string, opts: ControlOptions): Promise<number> {
  await withClient(opts.name, (c) => (verb === 'stop' ? c.stop(worker) : c.start(worker)));
  process.stderr.write(`${verb === 'stop' ? 'stopped' : 'started'} ${worker}\n`);
  return 0;
}

/** With `-f`, the server adds new output on the same connection right after the last stored line. */
export async function logsCommand(worker: string, opts: ControlOptions & { lines: number; follow?: boolean }): Promise<number> {
  const client = await connectFromCwd(opts.name);
  const out = stdoutUntilClosed(() => client.close());
  try {
    const view = (await client.snapshot()).workers.find((w) => w.name === worker);
    if (view?.captured === false) {
      process.stderr.write(
        `devsup: the output of ${worker} is not kept: \`devsup run\` hands it straight to its terminal (so colours and ` +
          'progress bars work); read it there, or keep it with `devsup run --json` (output on stderr, kept for `logs`), ' +
          '`--ready REGEX`, or `devsup up`\n',
      );
    }
    // A child's screen clears and cursor moves would act on this terminal: the same text as the dashboard's panes.
    const colour = colourWanted(process.stdout);
    const lines = await client.logs(worker, opts.lines, opts.follow);
    out(lines.map((l) => textOf(l, colour)).join(''));
    if (!opts.follow) return 0;
    // A flood into a slow terminal is dropped and counted here too, rather than queued in memory.
    const gate = new OutputGate(process.stdout, (w, n) => out(`── ${droppedSentence(w, n)} ──\n`));
    for await (const e of client.pushed()) {
      if (e.worker !== worker) continue;
      if (e.type === 'output') {
        if (gate.admit(worker)) out(`${safeChildText(String(e.line), { colour })}\n`);
      }
      else if (e.type === 'note') out(`── ${String(e.message)} ──\n`);
      else if (e.type === 'worker-started') out(`── generation ${String(e.generation)} started (pid ${String(e.pid)}, code ${String(e.codeId)}) ──\n`);
    }
    return 0;
  } finally {
    client.close();
  }
}

function textOf(l: LogLine, colour: boolean): string {
  return `${safeChildText(l.text, { colour })}\n`;
}

export async function eventsCommand(opts: ControlOptions): Promise<number> {
  const client = await connectFromCwd(opts.name);
  const out = stdoutUntilClosed(() => client.close());
  try {
    for await (const e of client.events()) out(`${JSON.stringify(e)}\n`);
    return 0;
  } finally {
    client.close();
  }
}

/** A reader that went away (`| head`) ends the stream quietly instead of with EPIPE. */
function stdoutUntilClosed(onClosed: () => void): (text: string) => void {
  process.stdout.on('error', onClosed);
  return (text) => {
    if (text !== '' && process.stdout.writable) process.stdout.write(text);
  };
}
