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
