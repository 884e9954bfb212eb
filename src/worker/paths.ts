import { relative } from 'node:path';
import type { ChangeSet } from '../core/events.js';

/** Paths as the user sees them: relative to the worker's directory. */
export function relativeChanges(c: ChangeSet, base: string): ChangeSet {
  const rel = (p: string): string => relative(base, p) || '.';
  return { added: c.added.map(rel), modified: c.modified.map(rel), removed: c.removed.map(rel) };
}
