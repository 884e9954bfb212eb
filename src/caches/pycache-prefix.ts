import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** The current generation's directory and the one before it (which a slow-to-die child may still use). */
const KEEP = 2;
const GEN_DIR = /^gen-(\d+)-/;

/**
 * A bytecode directory no Python process has written to yet. Python validates a pyc only by the
 * source's whole-second mtime and size, so an edit that keeps both is served from stale bytecode;
 * with PYTHONPYCACHEPREFIX pointing somewhere new each generation, there is no old bytecode to serve.
 */
export async function freshPycachePrefix(stateDir: string, generation: number): Promise<string> {
  const base = join(resolve(stateDir), 'pycache');
  await mkdir(base, { recursive: true });
  const fresh = await mkdtemp(join(base, `gen-${generation}-`));
  await pruneOld(base, fresh);
  return fresh;
}

async function pruneOld(base: string, fresh: string): Promise<void> {
  const others: { path: string; gen: number; mtimeMs: number }[] = [];
  for (const name of await readdir(base)) {
    const m = GEN_DIR.exec(name);
    const path = join(base, name);
    if (!m || path === fresh) continue;
    try {
      others.push({ path, gen: Number(m[1]), mtimeMs: (await stat(path)).mtimeMs });
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
