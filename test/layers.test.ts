import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/**
 * The layers of src/, lowest first. A folder may import from its own layer and the layers below,
 * never from above: the lower a module, the fewer it needs to be understood or tested.
 * core ← state; core ← watch ← caches, config ← process ← worker, stale, doctor ← supervisor ←
 * control, history, flake ← views ← cli.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['core'],
  // .devsup/: paths, atomic writes, locks; usable by everything above core.
  ['state'],
  ['watch'],
  ['caches', 'config'],
  ['process'],
  // stale/ is what `ps` needs on top of the process table; doctor's checks use what it knows of
  // saved content, and the supervisor uses doctor's (polling on network filesystems).
  ['worker', 'stale', 'doctor'],
  ['supervisor'],
  ['control', 'history', 'flake'],
  ['views'],
  ['cli'],
];

/** Imports that point the wrong way on purpose, each with its reason. None today. */
const ALLOWED: ReadonlyMap<string, string> = new Map<string, string>([]);

function levelOf(folder: string): number {
  const i = LAYERS.findIndex((l) => l.includes(folder));
  return i;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|mts)$/.test(e.name) ? [p] : [];
  });
}

/** Static and dynamic imports and re-exports, multi-line ones included. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const patterns = [/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gms, /^\s*import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const re of patterns) for (const m of text.matchAll(re)) out.push(m[1]!);
  return out;
}

/** `folder/file.ts -> folder/file.ts` for every import between two folders that goes up a layer. */
export function wrongWay(files: readonly string[], read: (file: string) => string): string[] {
  const bad: string[] = [];
  for (const file of files) {
    const from = relative(SRC, file);
    const fromFolder = from.split('/')[0]!;
    for (const spec of importsOf(read(file))) {
      if (!spec.startsWith('.')) continue;
      const to = relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
      const toFolder = to.split('/')[0]!;
      if (toFolder === fromFolder) continue;
      if (levelOf(toFolder) > levelOf(fromFolder) && !ALLOWED.has(`${from} -> ${to}`)) bad.push(`${from} -> ${to}`);
    }
  }
  return bad;
}

describe('the layers of src/', () => {
  const files = sourceFiles(SRC);

  it('places every folder of src/ in a layer', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => levelOf(f) < 0)).toEqual([]);
    expect(files.length).toBeGreaterThan(100);
  });

  it('has every import point down or sideways, never up', () => {
    expect(wrongWay(files, (f) => readFileSync(f, 'utf8'))).toEqual([]);
  });

  it('notices a wrong import however it is written', () => {
    const planted = join(SRC, 'core', 'planted.ts');
    const texts = [
      "import { Supervisor } from '../supervisor/supervisor.js';",
      "import type {\n  WorkerView,\n} from '../supervisor/api.js';",
      "export { renderPlain } from '../views/plain.js';",
      "const m = await import('../cli/main.js');",
      "import '../control/server.js';",
    ];
    for (const text of texts) expect(wrongWay([planted], () => text), text).toHaveLength(1);
    expect(wrongWay([join(SRC, 'cli', 'planted.ts')], () => texts[0]!)).toEqual([]);
  });

  it('keeps every allowed exception real', () => {
    const all = new Set<string>();
    for (const file of files) {
      const from = relative(SRC, file);
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) all.add(`${from} -> ${relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, '.ts')}`);
      }
    }
    expect([...ALLOWED.keys()].filter((k) => !all.has(k))).toEqual([]);
  });
});
