import { relative } from 'node:path';
import type { ChangeSet } from '../core/events.js';

/** A path as the user sees it: relative to the worker's directory. */
export function relativeTo(base: string, p: string): string {
  return relative(base, p) || '.';
}

export function relativeChanges(c: ChangeSet, base: string): ChangeSet {
  const rel = (p: string): string => relativeTo(base, p);
  return { added: c.added.map(rel), modified: c.modified.map(rel), removed: c.removed.map(rel) };
}
