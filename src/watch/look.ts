import { lstat, stat } from 'node:fs/promises';

/** What a path turned out to be when a backend's event about it was looked at. */
export interface Look {
  kind: 'dir' | 'file' | 'other' | 'gone';
  /**
   * The file's ctime: a backend may hold events (parcel does for 50 ms after the last one), and
   * the settle window counts from the write, not from when the event was passed on.
   */
  at?: number;
}

export async function look(p: string): Promise<Look> {
  try {
    const st = await lstat(p);
    if (st.isDirectory()) return { kind: 'dir' };
    if (st.isFile()) return { kind: 'file', at: st.ctimeMs };
    // A symlinked file counts like a file; a symlinked directory is not followed.
    if (st.isSymbolicLink()) {
      const target = await stat(p);
      return target.isFile() ? { kind: 'file', at: Math.max(st.ctimeMs, target.ctimeMs) } : { kind: 'other' };
    }
    return { kind: 'other' };
  } catch {
    return { kind: 'gone' };
  }
}
