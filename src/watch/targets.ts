import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, resolve, sep } from 'node:path';
import type { WatchEvent } from './types.js';

/**
 * One directory a backend watches: a directory root whole, or the parent of file roots with
 * everything but those files left out (watching the parent is what lets an editor's
 * write-and-rename save be seen).
 */
export interface Target {
  dir: string;
  whole: boolean;
  /** File roots directly in `dir`: they count whatever the patterns say. */
  files: ReadonlySet<string>;
}

/**
 * Turns roots into targets, one per directory: @parcel/watcher shares its scanned tree between
 * subscriptions on the same directory, so two with different ignores would blind each other.
 * Nested roots are not merged into the outer one: the outer watch may leave the inner root out
 * (it can sit in node_modules, or match an ignore), and events both watches see are merged by the
 * batching anyway.
 */
export async function watchTargets(roots: string[]): Promise<Target[]> {
  const byDir = new Map<string, { whole: boolean; files: Set<string> }>();
  const entry = (dir: string) => {
    const e = byDir.get(dir) ?? { whole: false, files: new Set<string>() };
    byDir.set(dir, e);
    return e;
  };
  for (const root of new Set(roots.map((r) => resolve(r)))) {
    const st = await stat(root).catch(() => undefined);
    // A missing root is waited for as a directory: that is what a root usually is.
    if (!st || st.isDirectory()) entry(root).whole = true;
    else entry(dirname(root)).files.add(root);
  }
  return [...byDir].map(([dir, e]) => ({ dir, whole: e.whole, files: e.files }));
}

/** What a target looks like to a consumer when it vanishes or returns. */
export function targetEvents(target: Target, gone: boolean): WatchEvent[] {
  if (target.whole) return [{ kind: gone ? 'unlinkDir' : 'addDir', path: target.dir }];
  return [...target.files].map((path) => ({ kind: gone ? 'unlink' : 'add', path }));
}

export function isInside(p: string, dir: string): boolean {
  return p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** A RegExp that leaves out every path below `dir` except the named files. */
export function onlyNamesPattern(files: Iterable<string>): RegExp {
  const names = [...files].map((f) => basename(f).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^(?!(?:${names.join('|')})$)`);
}

/** Tells a directory from another put in its place: inode numbers are reused at once on ext4. */
export function dirIdentity(s: Stats): string {
  return `${s.dev}:${s.ino}:${s.birthtimeMs}`;
}

export async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Native watchers refuse a symlinked directory, so a backend watches the real directory and maps
 * every path back to the name the user gave (the one the filter knows).
 */
export interface PathMap {
  real: string;
  toUser(realPath: string): string;
  toReal(userPath: string): string;
}

export async function pathMap(dir: string): Promise<PathMap> {
  const real = await realpath(dir);
  const swap = (from: string, to: string) => (p: string) =>
    p === from ? to : isInside(p, from) ? to + p.slice(from.length) : p;
  return { real, toUser: swap(real, dir), toReal: swap(dir, real) };
}
