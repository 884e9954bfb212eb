import type { CancelCause, EventOf } from '../core/events.js';
import type { ConfigRejected } from '../supervisor/api.js';

/** Small human formats shared by the text views. */

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

import { formatDuration } from '../core/duration.js';
export { formatDuration };

/** The first few names and how many more, so one line stays one line. */
export function formatFiles(files: string[], shown = 3): string {
  if (files.length === 0) return 'no files';
  const head = files.slice(0, shown).join(', ');
  return files.length > shown ? `${head} (+${files.length - shown} more)` : head;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** One line for files written into the watched tree as each start begins (most often by the child): which files, and the lasting fix. */
export function loopSentence(e: { files: string[]; generations: number; ignore: string[] }, short = false): string {
  const fix = e.ignore.map((g) => `--ignore ${g}`).join(' ');
  if (short) return `restart loop on ${formatFiles(e.files)}: no longer watched; fix: ${fix}`;
  return `restart loop: ${formatFiles(e.files)} changed right after each of ${e.generations} starts (written as each start begins, most likely by the child itself); no longer watching ${e.files.length === 1 ? 'it' : 'them'}. Fix: ${fix} (or "ignore" in the config)`;
}

/**
 * `port 4310 is taken by pid 812, started 14:02:11 (3m12s ago), a leftover of devsup (generation 3),
 * runs stale code; stop it with: kill 812 · node server.js`, one line per holder. The command comes
 * last: a narrow status line cuts it, never the way to stop it.
 */
export function describePortTaken(e: EventOf<'port-taken'>): string[] {
  const out = e.holders.map((h) => {
    const parts = [`port ${e.port} is taken by pid ${h.pid}, started ${startText(h.startedAt)}`];
    if (h.devsup) {
      const gen = h.devsup.generation !== undefined ? `generation ${h.devsup.generation}` : '';
      const code = h.devsup.codeId ? `code ${h.devsup.codeId}` : '';
      parts.push(`a leftover of devsup${gen || code ? ` (${[gen, code].filter(Boolean).join(', ')})` : ''}`);
    }
    if (h.stale !== undefined) parts.push(h.stale ? 'runs stale code' : 'runs the code on disk');
    else if (!h.inProject) parts.push('not a process of this project');
    const cmd = h.command.length > 100 ? `${h.command.slice(0, 99)}…` : h.command;
    return `${parts.join(', ')}; stop it with: ${h.stop}${cmd ? ` · ${cmd}` : ''}`;
  });
  for (const uid of e.otherUsers) out.push(`port ${e.port} is taken by a process of uid ${uid}, which devsup cannot look at`);
  return out;
}

/** `14:02:11, 3m12s ago` today, with the date on other days (local time). */
function startText(iso: string, now = Date.now()): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const today = new Date(now).toDateString() === d.toDateString();
  return `${today ? time : `${day} ${time}`} (${formatDuration(Math.max(0, now - d.getTime()))} ago)`;
}

/**
 * Why a task run was cancelled, as a phrase: `app.py changed while it ran`, `restart requested`.
 * Said instead of a count of files changed before the run, which reads as if nothing had changed.
 */
export function cancelSentence(c: CancelCause): string {
  const files = c.files && c.files.length > 0 ? formatFiles(c.files) : undefined;
  if (c.stop === 'caches found') return files ? `stale caches appeared while it ran (${files})` : 'stale caches appeared while it ran';
  if (c.stop === 'change' || (c.stop === undefined && files)) return files ? `${files} changed while it ran` : 'files changed while it ran';
  if (c.stop === 'shutting down') return 'devsup was shutting down';
  if (c.stop !== undefined) return c.stop;
  return 'what it ran against got new code while it ran';
}

/** What `status` and `wait-fresh` say while the config file's last edit does not validate. */
export function rejectedConfigLines(r: ConfigRejected, max = Infinity): string[] {
  const shown = r.problems.slice(0, max).map((p) => `  ${p}`);
  const more = r.problems.length - shown.length;
  return [`the last edit of ${r.file} does not validate; still running the config before it:`, ...shown, ...(more > 0 ? [`  … and ${more} more`] : [])];
}
