import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus } from '../core/bus.js';
import { errorMessage } from '../core/errors.js';
import { openBytecodePrefix, pycacheRoot, pythonEnv, type BytecodePrefix } from '../caches/pycache-prefix.js';
import { prunePycache } from '../caches/pycache-prune.js';
import { PrefixSeeder } from '../caches/pycache-seed.js';
import type { Snapshot } from '../watch/snapshot.js';

interface PrefixOwner {
  name: string;
  cwd: string;
  stateDir: string;
  clear: { roots: string[] };
}

/** Pruning waits until the child has had time to boot: it walks every prefix of the project. */
const PRUNE_DELAY_MS = 3000;

/**
 * A worker's prefix, kept by name for the life of the process: a worker rebuilt by a config reload
 * goes on from what the one before it knew.
 */
const prefixes = new Map<string, Promise<BytecodePrefix>>();
const pruned = new Set<string>();
/** Releases the previous start's snapshot, so only the last one is compared with the next. */
const leases = new Map<string, () => void>();
/**
 * The first start of a worker in this process has its prefix seeded while it boots (see
 * PrefixSeeder): on a project's first run that is the whole standard library and its packages.
 * Seeding stops at the next start, or once the child has had time to import what it imports.
 */
const seeders = new Map<string, PrefixSeeder>();
const SEED_MS = 10_000;
/** Per-start directories of workers whose persistent prefix could not be used. */
const fallbacks = new Map<string, string>();

/**
 * The environment a Python child of `w` starts with: its persistent prefix, readied for `snapshot`.
 * When the prefix cannot be used (its place in `.devsup` is a symlink, say) the child gets an empty
 * directory of its own instead: slower, never stale.
 */
export async function pythonPrefixFor(w: PrefixOwner, snapshot: Snapshot, bus: Bus): Promise<Record<string, string>> {
  const id = `${w.stateDir}\0${w.name}`;
  // The project's own files: the watched roots and the directory the command runs in.
  const areas = [...w.clear.roots, w.cwd];
  let opened = prefixes.get(id);
  const first = !opened;
  if (!opened) {
    opened = openBytecodePrefix(w.stateDir, `w-${w.name}`, areas);
    prefixes.set(id, opened);
  }
  try {
    const prefix = await opened;
    prefix.setAreas(areas);
    // A worker starts a child only once the previous tree is gone: it writes no more bytecode.
    leases.get(id)?.();
    leases.set(id, (await prefix.prepare(snapshot)).release);
    void seeders.get(id)?.stop();
    seeders.delete(id);
    // A start made before any file was read knows no watched file yet: nothing in the project is copied then.
    const watched = snapshot.unknown === true ? undefined : (path: string) => snapshot.files.has(path);
    if (first) seedWhileBooting(id, new PrefixSeeder(prefix.dir, areas, undefined, watched));
    pruneLater(w.stateDir);
    return pythonEnv(prefix.dir);
  } catch (err) {
    prefixes.delete(id);
    bus.emit({ type: 'warning', worker: w.name, message: `bytecode directory: ${errorMessage(err)}; using an empty one for this start` });
    const old = fallbacks.get(id);
    if (old) await rm(old, { recursive: true, force: true });
    const fresh = await mkdtemp(join(tmpdir(), 'devsup-pycache-'));
    if (fallbacks.size === 0) process.once('exit', () => fallbacks.forEach((d) => rmSync(d, { recursive: true, force: true })));
    fallbacks.set(id, fresh);
    return pythonEnv(fresh);
  }
}

function seedWhileBooting(id: string, seeder: PrefixSeeder): void {
  seeders.set(id, seeder);
  seeder.start();
  setTimeout(() => {
    if (seeders.get(id) !== seeder) return;
    seeders.delete(id);
    void seeder.stop();
  }, SEED_MS).unref();
}

/** Once per project and process: the prefixes are bounded across runs, not on every start. */
function pruneLater(stateDir: string): void {
  const root = pycacheRoot(stateDir);
  if (pruned.has(root)) return;
  pruned.add(root);
  setTimeout(() => void prunePycache(root).catch(() => undefined), PRUNE_DELAY_MS).unref();
}
