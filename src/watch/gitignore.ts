import { readFileSync, statSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type { Ignore } from 'ignore';
import { loadIgnore } from './cjs-packages.js';

interface Level {
  base: string;
  rules: Ignore;
}

export function toPosix(rel: string): string {
  return sep === '/' ? rel : rel.split(sep).join('/');
}

/**
 * The .gitignore files of one or more roots, read lazily the first time a directory is asked
 * about, so a directory that is never walked (node_modules) never has its .gitignore read.
 */
export class GitignoreSet {
  /** For each directory: the .gitignore files that apply inside it, shallowest first. */
  private readonly chains = new Map<string, readonly Level[]>();

  /** True when git would ignore `abs`, judged by the .gitignore files from `root` down to its parent. */
  ignores(abs: string, root: string, isDir: boolean): boolean {
    const chain = this.chain(dirname(abs), root);
    let ignored = false;
    // A deeper .gitignore overrides a shallower one, as in git; within a file the last match wins.
    for (const { base, rules } of chain) {
      const rel = toPosix(abs.slice(base.length + 1)) + (isDir ? '/' : '');
      const r = rules.test(rel);
      if (r.ignored) ignored = true;
      else if (r.unignored) ignored = false;
    }
    return ignored;
  }

  /** Forgets every file read: the next question reads them again (one of them was edited). */
  forget(): void {
    this.chains.clear();
  }

  private chain(dir: string, root: string): readonly Level[] {
    const hit = this.chains.get(dir);
    if (hit) return hit;
    const parent = dir === root || dirname(dir) === dir ? [] : this.chain(dirname(dir), root);
    const own = readRules(dir);
    const chain = own ? [...parent, { base: dir, rules: own }] : parent;
    this.chains.set(dir, chain);
    return chain;
  }
}

function readRules(dir: string): Ignore | undefined {
  const file = join(dir, '.gitignore');
  // Most directories have none; asking stat not to throw is far cheaper than a failed read.
  if (!statSync(file, { throwIfNoEntry: false })?.isFile()) return undefined;
  try {
    return loadIgnore()().add(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // unreadable: git could not apply it either
  }
}
