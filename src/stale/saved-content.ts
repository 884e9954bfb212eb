import { readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { readFirstLine } from '../core/first-line.js';
import { ctimeOfState, readFileState, sameContent, type FileState } from '../watch/file-state.js';
import { INDEX_MAGIC, loadIndex, type SavedStates } from '../watch/index-file.js';

/**
 * What devsup's saved file index says about a file whose ctime moved after a process started:
 * - same: the content is the one the index holds from before the start (a touch, a restored
 *   mtime, an edit undone): the process loaded this content;
 * - differs: it is not. `proven` when the index was saved after the start, so the saved content is
 *   what was there when the process started; otherwise the file may have changed before the start
 *   too, after the save, and only its ctime speaks for a change after it;
 * - unknown: no index holds a state of the file from before the start.
 */
export type ContentAnswer =
  | { kind: 'same'; savedAtMs: number }
  | { kind: 'differs'; savedAtMs: number; proven: boolean }
  | { kind: 'unknown' };

interface IndexFile {
  file: string;
  base: string;
  /** When it was written: the supervisor vouched for every state in it until then. */
  savedAtMs: number;
  states?: Promise<SavedStates | undefined>;
}


/** The saved indexes of `root` and of every directory above it (a supervisor may watch from higher up). */
export class SavedContent {
  private readonly hashes = new Map<string, FileState | undefined>();

  private constructor(private readonly indexes: IndexFile[]) {}

  static find(root: string): SavedContent {
    const found: IndexFile[] = [];
    for (let dir = root; ; dir = dirname(dir)) {
      const indexDir = join(dir, '.devsup', 'index');
      let names: string[] = [];
      try {
        names = readdirSync(indexDir);
      } catch {
        // no index here
      }
      for (const name of names) {
        if (name.endsWith('.tmp')) continue;
        const file = join(indexDir, name);
        const header = readFirstLine(file, 8192)?.split('\t');
        if (header?.[0] !== INDEX_MAGIC || header[1] === undefined) continue;
        try {
          found.push({ file, base: header[1], savedAtMs: statSync(file).mtimeMs });
        } catch {
          // removed meanwhile
        }
      }
      if (dirname(dir) === dir) break;
    }
    return new SavedContent(found);
  }

  get available(): boolean {
    return this.indexes.length > 0;
  }

  /** Whether the content of `path` is the one it had before `beforeMs`, as far as an index knows. */
  async compare(path: string, beforeMs: number): Promise<ContentAnswer> {
    let differs: { savedAtMs: number; proven: boolean } | undefined;
    for (const ix of this.indexes) {
      const rel = relative(ix.base, path);
      if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) continue;
      ix.states ??= loadIndex(ix.file, ix.base).catch(() => undefined);
      const saved = (await ix.states)?.get(rel);
      const savedCtime = saved === undefined ? undefined : ctimeOfState(saved);
      // A state taken after the file last changed past the start says nothing of what it was before.
      if (saved === undefined || savedCtime === undefined || savedCtime > beforeMs) continue;
      const now = this.hashOf(path, rel, ix.base);
      if (now !== undefined && sameContent(now, saved)) return { kind: 'same', savedAtMs: ix.savedAtMs };
      const proven = ix.savedAtMs >= beforeMs;
      if (!differs || (proven && !differs.proven)) differs = { savedAtMs: ix.savedAtMs, proven };
    }
    return differs ? { kind: 'differs', ...differs } : { kind: 'unknown' };
  }

  /** The hash covers the path relative to the index's base, so it is taken once per base. */
  private hashOf(path: string, rel: string, base: string): FileState | undefined {
    const key = `${base}\0${path}`;
    if (!this.hashes.has(key)) this.hashes.set(key, readFileState(path, rel));
    return this.hashes.get(key);
  }
}
