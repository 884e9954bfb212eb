import { createFilter } from '../watch/filter.js';
import { Snapshotter } from '../watch/snapshot.js';
import { walkFiles } from '../watch/walk.js';
import { openBytecodePrefix, pycacheRoot, type BytecodePrefix } from './pycache-prefix.js';
import { prunePycache } from './pycache-prune.js';
import { PrefixSeeder } from './pycache-seed.js';

export interface RunPrefix {
  /** The PYTHONPYCACHEPREFIX of one run. */
  dir: string;
  /** The run's whole tree is gone: it writes no more bytecode. */
  release(): void;
}

export interface SessionPrefix {
  /** Readies the prefix for a run that starts now, on the Python files as they are now. */
  forRun(): Promise<RunPrefix>;
  /** Gives the prefix up and bounds the project's bytecode; every run must have ended. */
  close(): Promise<void>;
}

/**
 * The bytecode prefix a series of runs shares (`devsup flake`): nothing watches the tree between
 * runs, so each run looks at the project's Python files itself (unchanged ones are only stat'ed)
 * and the bytecode of every file written since an earlier run started is removed before it starts.
 * While the first run goes, the prefix is seeded with the bytecode Python keeps beside the code
 * outside the project that the run imports (PrefixSeeder), so even a session on an empty prefix
 * does not compile the standard library and the test runner.
 */
export async function openSessionPrefix(stateDir: string, key: string, cwd: string, ignore: string[]): Promise<SessionPrefix> {
  const prefix: BytecodePrefix = await openBytecodePrefix(stateDir, key, [cwd]);
  const filter = createFilter({ roots: [cwd], ignore, ext: ['py', 'pyw'], gitignore: true });
  const snapshotter = new Snapshotter(() => walkFiles([cwd], filter, () => undefined), cwd);
  // Parallel runs ask at once; one look at the tree at a time, each start readied in turn.
  let tail: Promise<unknown> = Promise.resolve();
  let seeder: PrefixSeeder | undefined;
  return {
    forRun() {
      const run = tail.then(async () => {
        const snap = await snapshotter.take();
        const { release } = await prefix.prepare(snap);
        if (seeder) return { dir: prefix.dir, release };
        // Once the first run has ended, what the runs import has been compiled or copied.
        const first = (seeder = new PrefixSeeder(prefix.dir, [cwd], undefined, (path) => snap.files.has(path)));
        first.start();
        return {
          dir: prefix.dir,
          release: () => {
            release();
            void first.stop();
          },
        };
      });
      tail = run.catch(() => undefined);
      return run;
    },
    async close() {
      await seeder?.stop();
      prefix.close();
      await prunePycache(pycacheRoot(stateDir)).catch(() => undefined);
    },
  };
}
