// One scenario's part of BENCHMARKS.md, between its own two markers, so a run of that scenario alone
// (`--only python`) rewrites it and leaves the rest of the file as it was.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Replaces the text between `markers.begin` and `markers.end` in `path` with `lines`; where the
 * file has no such section yet, it goes right below `keepMarker` (or at the end).
 */
export function writeSection(path, markers, lines, keepMarker) {
  const block = `${markers.begin}\n${lines.join('\n')}\n${markers.end}`;
  let text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const a = text.indexOf(markers.begin);
  const b = text.indexOf(markers.end);
  if (a >= 0 && b > a) text = text.slice(0, a) + block + text.slice(b + markers.end.length);
  else {
    const k = text.indexOf(keepMarker);
    text = k >= 0 ? `${text.slice(0, k + keepMarker.length)}\n\n${block}\n${text.slice(k + keepMarker.length)}` : `${text.trimEnd()}\n\n${block}\n`;
  }
  writeFileSync(path, text);
}
