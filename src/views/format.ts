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

export { formatDuration } from '../core/duration.js';

/** The first few names and how many more, so one line stays one line. */
export function formatFiles(files: string[], shown = 3): string {
  if (files.length === 0) return 'no files';
  const head = files.slice(0, shown).join(', ');
  return files.length > shown ? `${head} (+${files.length - shown} more)` : head;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** One line for a child that writes into its own watched tree: which files, and the lasting fix. */
export function loopSentence(e: { files: string[]; generations: number; ignore: string[] }, short = false): string {
  const fix = e.ignore.map((g) => `--ignore ${g}`).join(' ');
  if (short) return `restart loop on ${formatFiles(e.files)}: no longer watched; fix: ${fix}`;
  return `restart loop: ${formatFiles(e.files)} changed right after each of ${e.generations} starts (the child writes into its watched tree); no longer watching ${e.files.length === 1 ? 'it' : 'them'}. Fix: ${fix} (or "ignore" in the config)`;
}
