import type { Writable } from 'node:stream';
import { assertNever, describeListeners, type ChangeSet, type DevsupEvent } from '../core/events.js';
import { failureSentence } from '../flake/report.js';
import { cancelSentence, describePortTaken, formatBytes, formatFiles, formatDuration, loopSentence, plural } from './format.js';
import { forTerminal, utf8Locale } from './glyphs.js';
import { safeChildText } from './child-text.js';
import { colourWanted, stylerFor } from './style.js';
import { droppedSentence, lineBatcher, OutputGate } from '../core/behind.js';

export interface PlainViewOptions {
  /** Prefix lines with the worker name (several workers share one stream). */
  showWorker: boolean;
  /** Debug-level lines (ready, fresh, stopping) are only shown when verbose. */
  verbose?: boolean;
  /** Print child output events (when the children do not write to the terminal themselves). */
  showOutput?: boolean;
  /** ASCII symbols instead of ✔ ✘ ↻ (default: when the locale is not UTF-8). */
  ascii?: boolean;
}

/**
 * Human lines, kept apart from the child's own output: dimmed and prefixed, on stderr by default so
 * the child's stdout stays clean for pipes.
 */
export function plainView(out: Writable & { isTTY?: boolean }, opts: PlainViewOptions): (e: DevsupEvent) => void {
  const st = stylerFor(out);
  const colour = colourWanted(out);
  const ascii = opts.ascii ?? !utf8Locale();
  // Child lines are batched; devsup's own lines first write what is waiting, so the order stays.
  const batch = lineBatcher(out);
  const say = (e: DevsupEvent, text: string): void => {
    const worker = 'worker' in e ? e.worker : undefined;
    const who = opts.showWorker && worker ? `${st.tag(worker, worker)} ` : '';
    batch.flush();
    out.write(`${st.dim('[devsup]')} ${who}${forTerminal(text, ascii)}\n`);
  };
  const note = (e: DevsupEvent, text: string): void => say(e, st.dim(text));
  // Child output is what a slow reader can make unbounded; see OutputGate for why it is dropped.
  const gate = new OutputGate(out, (worker, count) => say({ type: 'note', worker, message: '' }, st.yellow(droppedSentence(worker, count))));

  /** Workers with a run that counted (passed or failed): changed files are counted from the last one. */
  const counted = new Set<string>();

  return (e: DevsupEvent): void => {
    switch (e.type) {
      case 'watching': {
        const via = e.fallbackReason ? `${e.backend} (${e.fallbackReason})` : e.backend;
        note(e, `watching ${plural(e.files, 'file')} in ${e.roots.join(', ')} with ${via}`);
        return;
      }
      case 'worker-starting':
        if (opts.verbose) note(e, `starting generation ${e.generation} (${e.reason})`);
        return;
      case 'worker-started': {
        const r = e.restart;
        const code = e.codeId === '' ? 'code not known yet (started before the files were read; reading them)' : `code ${e.codeId}`;
        const head = `pid ${e.pid}, generation ${e.generation}, ${code}${e.provisional && e.codeId !== '' ? ' (as saved by the last run; checking the files)' : ''}`;
        if (!r || r.reason === 'initial') {
          note(e, `started ${head}${r?.cleared ? `; cleared ${describeCleared(r.cleared)}` : ''}`);
          return;
        }
        const parts: string[] = [];
        if (r.reason === 'change' && r.changes) parts.push(`${describeChanges(r.changes)} changed`);
        else if (r.reason === 'manual') parts.push('restart requested');
        else if (r.reason === 'crash') parts.push('after a crash');
        else if (r.reason === 'repeat') parts.push('repeat run');
        else if (r.reason === 'caches') parts.push('caches found after the start');
        else parts.push(r.reason);
        if (r.cleared) parts.push(`cleared ${describeCleared(r.cleared)}`);
        if (r.stopMs !== undefined) parts.push(`old tree gone in ${formatDuration(r.stopMs)}`);
        parts.push(`started in ${formatDuration(e.spawnMs)}`);
        say(e, `${st.cyan('↻ restart')} ${st.dim(`${parts.join(' · ')} → ${head}`)}`);
        return;
      }
      case 'spawn-failed':
        say(e, e.exitCode === undefined ? `${st.red(e.message)}${st.dim('; waiting for a change (or type rs)')}` : st.red(e.message));
        return;
      case 'ready': {
        const on = describeListeners(e.listening);
        if (e.how === 'ports') note(e, `ready: listening on ${on}`);
        else if (opts.verbose || e.how !== 'started' || on !== '') note(e, `ready (${e.how})${on ? `, listening on ${on}` : ''}`);
        return;
      }
      case 'change':
        if (opts.verbose) note(e, `change: ${describeChanges(e.changes)}`);
        return;
      case 'stale':
        // A restart line follows at once when the worker restarts; STALE matters when it does not.
        if (e.restarting && !opts.verbose) return;
        say(e, `${st.yellow('STALE')} ${st.dim(`generation ${e.generation} runs old code: ${formatFiles(e.files)} changed`)}`);
        return;
      case 'fresh':
        if (opts.verbose) note(e, `generation ${e.generation} is fresh (code ${e.codeId})`);
        return;
      case 'stopping':
        if (opts.verbose) note(e, `stopping pid ${e.pid} with ${e.signal} (${e.reason})`);
        return;
      case 'stopped':
        if (e.how === 'killed') say(e, st.yellow(`tree of generation ${e.generation} ignored the signal; killed after ${formatDuration(e.durationMs)}`));
        else if (e.how === 'gave-up') say(e, st.red(`gave up on ${plural(e.survivors, 'process', 'processes')} that survived SIGKILL`));
        else if (opts.verbose) note(e, `stopped in ${formatDuration(e.durationMs)}`);
        return;
      case 'caches-cleared':
        if (opts.verbose) note(e, `cleared ${describeCleared({ count: e.paths.length, bytes: e.bytes })}`);
        return;
      case 'exited': {
        const how = e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`;
        const text = `${how} after ${formatDuration(e.durationMs)}`;
        say(e, e.code === 0 ? st.dim(text) : st.red(text));
        return;
      }
      case 'task-finished': {
        if (e.result === 'cancelled') {
          say(e, `${st.yellow('⊘ cancelled')} ${st.dim(`after ${formatDuration(e.durationMs)}: ${cancelSentence(e.cancelledBy ?? {})}`)}`);
          return;
        }
        const mark = e.result === 'passed' ? st.green('✔ passed') : st.red(`✘ failed (${e.signal ?? `exit ${e.code}`})`);
        // Before a first counted run there is nothing to count from, which is not "0 files changed".
        const since = counted.has(e.worker) ? `, ${plural(e.changedFiles, 'file')} changed since the previous run` : '';
        counted.add(e.worker);
        say(e, `${mark} ${st.dim(`in ${formatDuration(e.durationMs)}${since}`)}`);
        return;
      }
      case 'task-summary': {
        const text = `code ${e.codeId}: ${failureSentence(e.failed, e.runs)}`;
        say(e, e.failed === 0 ? st.green(text) : st.red(text));
        return;
      }
      case 'task-tests': {
        if (e.newFailures.length === 0) return;
        const counts = new Map(e.failing.map((t) => [t.id, `${t.failed}/${t.runs}`]));
        const names = e.newFailures.slice(0, 5).map((id) => `${id}${counts.has(id) ? ` (${counts.get(id)} on this code)` : ''}`);
        const more = e.newFailures.length > 5 ? `, and ${e.newFailures.length - 5} more` : '';
        say(e, st.red(`failing tests: ${names.join(', ')}${more}`));
        return;
      }
      case 'backoff':
        note(e, `restarting in ${formatDuration(e.delayMs)} (attempt ${e.attempt})`);
        return;
      case 'waiting':
        note(e, 'waiting for a change (type rs to restart)');
        return;
      case 'hold':
        note(e, `restarts held by ${e.holder} (${e.holds} active)`);
        return;
      case 'release':
        note(e, `hold released by ${e.holder} (${e.holds} active)`);
        return;
      case 'output':
        if (opts.showOutput && gate.admit(e.worker)) batch.add(`${st.tag(e.worker, `${e.worker} |`)} ${safeChildText(e.line, { colour })}\n`);
        return;
      case 'output-ended':
        return;
      case 'loop':
        say(e, st.red(loopSentence(e)));
        return;
      case 'config-check':
        if (e.problems.length === 0) note(e, 'config valid again; the running set matches the file');
        else say(e, st.red(`config not applied, the last valid one keeps running:\n${e.problems.map((p) => `  ${p}`).join('\n')}`));
        return;
      case 'warning':
        say(e, st.yellow(`warning: ${e.message}`));
        return;
      case 'port-taken':
        for (const line of describePortTaken(e)) say(e, st.red(line));
        return;
      case 'note':
        note(e, `note: ${e.message}`);
        return;
      case 'shutdown':
        // Ctrl-C: the trees get their grace period, and whoever pressed it may not know a second one kills now.
        if (e.signal === 'SIGINT') note(e, 'stopping… (Ctrl-C again to kill now)');
        else if (opts.verbose) note(e, `shutting down${e.signal ? ` on ${e.signal}` : ''}`);
        return;
      default:
        assertNever(e);
    }
  };
}

function describeChanges(c: ChangeSet): string {
  return formatFiles([...c.modified, ...c.added, ...c.removed]);
}

function describeCleared(c: { count: number; bytes: number }): string {
  return `${plural(c.count, 'cache')} (${formatBytes(c.bytes)})`;
}
