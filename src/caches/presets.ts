import { basename } from 'node:path';
import { UsageError } from '../core/errors.js';

export const PRESET_NAMES = ['python', 'pytest', 'node', 'vite', 'tsbuildinfo'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/**
 * What each preset removes. Names in `dirNames`/`fileSuffixes` match anywhere under a root (outside
 * .git, .devsup, node_modules and virtual environments); `nodeModulesChildren` are looked up
 * directly in node_modules folders, because walking node_modules to find two well-known folders
 * would cost more than the restart.
 */
export interface PresetSpec {
  dirNames: readonly string[];
  fileSuffixes: readonly string[];
  /** Children of a `node_modules` directory. */
  nodeModulesChildren: readonly string[];
}

export const PRESETS: Readonly<Record<PresetName, PresetSpec>> = {
  python: { dirNames: ['__pycache__'], fileSuffixes: ['.pyc'], nodeModulesChildren: [] },
  pytest: { dirNames: ['.pytest_cache'], fileSuffixes: [], nodeModulesChildren: [] },
  node: { dirNames: [], fileSuffixes: [], nodeModulesChildren: ['.cache'] },
  vite: { dirNames: [], fileSuffixes: [], nodeModulesChildren: ['.vite'] },
  tsbuildinfo: { dirNames: [], fileSuffixes: ['.tsbuildinfo'], nodeModulesChildren: [] },
};

export const NODE_PRESETS: readonly PresetName[] = ['node', 'vite', 'tsbuildinfo'];

export function isPresetName(word: string): word is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(word);
}

/** Splits on commas outside braces, so `tmp/{a,b}/**` stays one glob. */
function splitList(item: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of item) {
    if (ch === '{') depth++;
    else if (ch === '}' && depth > 0) depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

function checkGlob(glob: string): string {
  const g = glob.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
  // Everything cleared must stay inside a root; a glob that points elsewhere is a mistake, not a request.
  if (g.startsWith('/') || /^[A-Za-z]:/.test(g)) {
    throw new UsageError(`--clear glob "${glob}" must be relative to a watched root, not absolute`);
  }
  if (g.split('/').includes('..')) {
    throw new UsageError(`--clear glob "${glob}" must not contain ".." (only paths inside a root are cleared)`);
  }
  if (g.startsWith('!')) {
    throw new UsageError(`--clear glob "${glob}": negated globs are not supported`);
  }
  if (g === '' || g === '.') {
    throw new UsageError(`--clear glob "${glob}" would match the root itself`);
  }
  return g;
}

export function parseClearSpec(items: string[]): { presets: PresetName[]; globs: string[] } {
  const presets: PresetName[] = [];
  const globs: string[] = [];
  for (const item of items) {
    for (const word of splitList(item)) {
      const lower = word.toLowerCase();
      if (isPresetName(lower)) {
        if (!presets.includes(lower)) presets.push(lower);
      } else if (!/[/*.]/.test(word)) {
        // A bare word is far more likely a mistyped preset than a file named like that at the root.
        throw new UsageError(
          `unknown --clear preset "${word}"; valid presets: ${PRESET_NAMES.join(', ')} ` +
            `(anything else must be a glob such as "tmp/cache/**" or "./${word}")`,
        );
      } else {
        const glob = checkGlob(word);
        if (!globs.includes(glob)) globs.push(glob);
      }
    }
  }
  return { presets, globs };
}

/** Shell-free word split for a command given as one string; quotes are honoured, nothing else. */
export function splitCommand(cmd: string): string[] {
  const words: string[] = [];
  const re = /"((?:\\.|[^"\\])*)"|'([^']*)'|(\S+)/g;
  for (const m of cmd.matchAll(re)) words.push(m[1] ?? m[2] ?? m[3] ?? '');
  return words;
}

const ENV_OPTIONS_WITH_VALUE = new Set(['-u', '--unset', '-C', '--chdir', '-S', '--split-string']);

/** Drops `env [options]`, `VAR=value` prefixes and `exec` so the real program comes first. */
function programWords(argv: string[] | string): string[] {
  const words = typeof argv === 'string' ? splitCommand(argv) : [...argv];
  let i = 0;
  while (i < words.length) {
    const word = words[i]!;
    const name = commandName(word);
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) i++;
    else if (name === 'exec') i++;
    else if (name === 'env') {
      i++;
      while (i < words.length && words[i]!.startsWith('-')) i += ENV_OPTIONS_WITH_VALUE.has(words[i]!) ? 2 : 1;
    } else break;
  }
  return words.slice(i);
}

/** The first word after the program that is not an option. */
function subcommand(words: string[]): string | undefined {
  return words.slice(1).find((w) => !w.startsWith('-'));
}

function commandName(word: string): string {
  return basename(word.replace(/\\/g, '/')).replace(/\.exe$/i, '').toLowerCase();
}

const PYTHON_RUNNERS = new Set(['uv', 'poetry', 'pipenv', 'pdm', 'hatch', 'rye']);
const PYTHON_PROGRAMS = new Set([
  'pytest',
  'py.test',
  'uvx',
  'uvicorn',
  'gunicorn',
  'hypercorn',
  'flask',
  'django-admin',
  'celery',
]);

export function isPythonCommand(argv: string[] | string): boolean {
  const words = programWords(argv);
  const first = words[0];
  if (first === undefined) return false;
  const name = commandName(first);
  if (/^python(\d+(\.\d+)?)?$/.test(name)) return true;
  if (PYTHON_PROGRAMS.has(name)) return true;
  if (PYTHON_RUNNERS.has(name) && subcommand(words) === 'run') return true;
  // A script run through its shebang (`./manage.py runserver`).
  return name.endsWith('.py');
}

const NODE_PROGRAMS = new Set(['node', 'nodejs', 'tsx', 'ts-node', 'vitest', 'vite', 'jest', 'nodemon', 'next']);
const NODE_RUNNERS = new Set(['npx', 'pnpx', 'bunx']);
const PACKAGE_MANAGERS = new Set(['npm', 'pnpm', 'yarn', 'bun']);
const PM_SUBCOMMANDS = new Set(['run', 'run-script', 'exec', 'dlx', 'test', 't', 'start', 'dev']);

function isNodeCommand(words: string[]): boolean {
  const first = words[0];
  if (first === undefined) return false;
  const name = commandName(first);
  if (NODE_PROGRAMS.has(name) || NODE_RUNNERS.has(name)) return true;
  if (!PACKAGE_MANAGERS.has(name)) return false;
  const sub = subcommand(words);
  // yarn, pnpm and bun run a script given by bare name (`yarn dev`); npm needs `run` or a shortcut.
  return sub !== undefined && (PM_SUBCOMMANDS.has(sub) || name !== 'npm');
}

/**
 * The presets implied by a command when the user gave no `--clear`. Python commands get `pytest`
 * only: their bytecode is kept out of `__pycache__` by the worker's own PYTHONPYCACHEPREFIX,
 * which is safer than deleting files the user's other tools may be using.
 */
export function presetsForCommand(argv: string[] | string): PresetName[] {
  const words = programWords(argv);
  if (isPythonCommand(words)) return ['pytest'];
  if (isNodeCommand(words)) return [...NODE_PRESETS];
  return [];
}
