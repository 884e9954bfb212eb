import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import picomatch from 'picomatch';
import { errorMessage } from '../core/errors.js';
import { drainSliced } from '../core/slices.js';
import { PRESETS, type PresetName } from './presets.js';

export interface Candidate {
  /** Under the root as the user named it: what gets reported. */
  display: string;
  /** Under the root's realpath; nothing on the way was a symlink, because none is ever walked. */
  real: string;
  rootReal: string;
}

interface Glob {
  base: string;
  match: (rel: string) => boolean;
}

const hasNodeModules = (rel: string) => rel.split('/').includes('node_modules');

export async function findCandidates(
  roots: string[],
  presetNames: PresetName[],
  globPatterns: string[],
  errors: string[],
): Promise<Candidate[]> {
  const specs = presetNames.map((p) => PRESETS[p]);
  const dirNames = new Set(specs.flatMap((s) => s.dirNames));
  const suffixes = specs.flatMap((s) => s.fileSuffixes);
  const nmChildren = [...new Set(specs.flatMap((s) => s.nodeModulesChildren))];
  // Every preset walks the whole tree (node_modules and .git excluded), so a workspace package's
  // own node_modules/.vite is found as well as the root's.
  const walkEverything = specs.length > 0;
  const globs: Glob[] = globPatterns.map((g) => ({
    base: picomatch.scan(g).base,
    match: picomatch(g, { dot: true }),
  }));
  const found: Candidate[] = [];

  // node_modules is entered only on the way to a glob's literal base that names it.
  const shouldDescend = (rel: string): boolean => {
    const nm = hasNodeModules(rel);
    if (walkEverything && !nm) return true;
    return globs.some((g) => {
      if (g.base === '') return !nm;
      if (g.base === rel || g.base.startsWith(rel + '/')) return true;
      return rel.startsWith(g.base + '/') && !hasNodeModules(rel.slice(g.base.length + 1));
    });
  };

  const presetMatch = (e: Dirent): boolean => {
    const link = e.isSymbolicLink();
    if ((e.isDirectory() || link) && dirNames.has(e.name)) return true;
    return (e.isFile() || link) && suffixes.some((s) => e.name.endsWith(s));
  };

  for (const root of roots) {
    const shown = resolve(root);
    let rootReal: string;
    try {
      rootReal = await realpath(shown);
      if (!(await stat(rootReal)).isDirectory()) continue;
    } catch (err) {
      errors.push(`${shown}: ${errorMessage(err)}`);
      continue;
    }
    const add = (rel: string) => found.push({ display: join(shown, rel), real: join(rootReal, rel), rootReal });

    // Directories are read synchronously, in slices: this walk runs before every start, and on a
    // big tree promise-based reads cost several times as much.
    const pending: string[] = [''];
    const walk = (rel: string): void => {
      const dir = join(rootReal, rel);
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') errors.push(`${join(shown, rel)}: ${errorMessage(err)}`);
        return;
      }
      const presetsApply = !hasNodeModules(rel);
      for (const e of entries) {
        if (e.name === '.git') continue;
        const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
        if ((presetsApply && presetMatch(e)) || globs.some((g) => g.match(childRel))) {
          add(childRel);
          continue;
        }
        // Dirent types come from lstat semantics: a symlinked directory is not a directory here.
        if (!e.isDirectory()) continue;
        if (presetsApply && e.name === 'node_modules') {
          for (const c of nmChildren) addIfPresent(`${childRel}/${c}`);
        }
        if (shouldDescend(childRel)) pending.push(childRel);
      }
    };

    const addIfPresent = (rel: string): void => {
      try {
        lstatSync(join(rootReal, rel));
        add(rel);
      } catch {
        /* absent: nothing to clear */
      }
    };

    await drainSliced(pending, walk);
  }
  return found;
}
