import { stat } from 'node:fs/promises';
import { basename, extname, relative } from 'node:path';
import { gate } from '../caches/gate.js';
import { createFilter } from '../watch/filter.js';
import { walkTree } from '../watch/walk.js';

/**
 * What counts as source: files a running process read when it started and will not read again by
 * itself: code, plus the config formats programs load once at startup. Bytecode (.pyc), build
 * output (dist, build), documents and assets are left out: rewriting them does not mean the
 * process runs old code, and counting them would call every process stale after a build.
 */
export const SOURCE_EXTENSIONS: ReadonlySet<string> = new Set([
  // Python, JavaScript and TypeScript, and the frameworks that compile their own files
  '.py', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.tsx', '.jsx', '.vue', '.svelte', '.astro',
  // other languages a dev loop commonly runs
  '.go', '.rb', '.rs', '.java', '.kt', '.scala', '.php', '.pl', '.pm', '.lua', '.ex', '.exs', '.erl',
  '.cs', '.swift', '.dart', '.c', '.h', '.cc', '.cpp', '.hpp', '.sh', '.bash',
  // configuration read at startup
  '.json', '.toml', '.yaml', '.yml', '.ini', '.cfg', '.env',
]);

export function isSourceFile(path: string): boolean {
  const name = basename(path);
  // `.env` has no extension to Node, yet it is the config most often changed under a running server.
  return SOURCE_EXTENSIONS.has(extname(name)) || name === '.env' || name.startsWith('.env.');
}

export interface SourceFile {
  path: string;
  /** Relative to the root, for display. */
  rel: string;
  mtimeNs: bigint;
}

/** A stat holds a thread-pool slot; a big tree must not queue tens of thousands at once. */
const statGate = gate(64);

/**
 * Every source file under `root`, newest first, walked the way `run` watches: the watch filter's
 * default ignores (node_modules, .git, __pycache__, .venv, dist, ...) and .gitignore honoured.
 */
export async function listSources(root: string): Promise<SourceFile[]> {
  const filter = createFilter({ roots: [root] });
  const paths: string[] = [];
  await walkTree([root], filter, () => undefined, { onFile: (p) => isSourceFile(p) && paths.push(p) });
  const stats = await Promise.all(
    paths.map((path) =>
      statGate(() => stat(path, { bigint: true })).then(
        (st) => ({ path, rel: relative(root, path), mtimeNs: st.mtimeNs }),
        () => undefined, // gone since the walk
      ),
    ),
  );
  const files = stats.filter((s): s is SourceFile => s !== undefined);
  return files.sort((a, b) => (a.mtimeNs > b.mtimeNs ? -1 : a.mtimeNs < b.mtimeNs ? 1 : a.rel.localeCompare(b.rel)));
}
