import { isDeepStrictEqual } from 'node:util';
import type { ResolvedConfig } from './types.js';

export interface ConfigDiff {
  /** In the new config's order. */
  added: string[];
  /** In the old config's order. */
  removed: string[];
  /** Workers in both whose resolved fields differ in any way, in the new config's order. */
  changed: string[];
}

/** What a hot reload must do: start `added`, stop `removed`, restart `changed`. */
export function diffConfigs(old: Pick<ResolvedConfig, 'workers'>, next: Pick<ResolvedConfig, 'workers'>): ConfigDiff {
  const before = new Map(old.workers.map((w) => [w.name, w]));
  const after = new Set(next.workers.map((w) => w.name));
  const diff: ConfigDiff = { added: [], removed: [], changed: [] };
  for (const w of next.workers) {
    const prev = before.get(w.name);
    if (prev === undefined) diff.added.push(w.name);
    else if (!isDeepStrictEqual(prev, w)) diff.changed.push(w.name);
  }
  for (const w of old.workers) if (!after.has(w.name)) diff.removed.push(w.name);
  return diff;
}

/** `added api; removed old; changed web`, for the message of a reload. */
export function describeDiff(d: ConfigDiff): string {
  const parts: string[] = [];
  if (d.added.length) parts.push(`added ${d.added.join(', ')}`);
  if (d.removed.length) parts.push(`removed ${d.removed.join(', ')}`);
  if (d.changed.length) parts.push(`changed ${d.changed.join(', ')}`);
  return parts.join('; ');
}
