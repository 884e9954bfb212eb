import { lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { prunable, stateSubdir } from '../state/files.js';

/** The current generation's directory and the one before it (which a slow-to-die child may still use). */
const KEEP = 2;
const GEN_DIR = /^gen-(\d+)-/;

/**
 * A bytecode directory no Python process has written to yet. Python validates a pyc only by the
 * source's whole-second mtime and size, so an edit that keeps both is served from stale bytecode;
 * with PYTHONPYCACHEPREFIX pointing somewhere new each generation, there is no old bytecode to serve.
 */
export async function freshPycachePrefix(stateDir: string, generation: number): Promise<string> {
  const base = await stateSubdir(resolve(stateDir), 'pycache');
  const fresh = await mkdtemp(join(base, `gen-${generation}-`));
  await pruneOld(base, fresh);
  return fresh;
}

async function pruneOld(base: string, fresh: string): Promise<void> {
  const others: { path: string; gen: number; mtimeMs: number }[] = [];
  for (const e of await readdir(base, { withFileTypes: true })) {
    // Only directories devsup made: a link or a file named like one is left alone.
    const m = prunable(e, 'dir', (n) => GEN_DIR.test(n)) ? GEN_DIR.exec(e.name) : null;
    const path = join(base, e.name);
    if (!m || path === fresh) continue;
    try {
      others.push({ path, gen: Number(m[1]), mtimeMs: (await lstat(path)).mtimeMs });
    } catch {
      /* pruned concurrently */
    }
  }
  // Newest by time first, so directories left by an earlier devsup run (whose generation numbers
  // may be higher than this run's) go before this run's previous generation. Timestamps are coarse,
  // so equal times fall back to the generation number.
  others.sort((a, b) => b.mtimeMs - a.mtimeMs || b.gen - a.gen);
  await Promise.all(others.slice(KEEP - 1).map((o) => rm(o.path, { recursive: true, force: true })));
}

/** Environment additions for a Python child of the generation that owns `prefix`. */
export function pythonEnv(prefix: string): Record<string, string> {
  return { PYTHONPYCACHEPREFIX: prefix };
}
