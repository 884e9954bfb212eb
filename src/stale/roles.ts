import { existsSync } from 'node:fs';
import { basename, isAbsolute, join, resolve, sep } from 'node:path';
import type { ProcInfo } from '../process/table.js';

/**
 * What a process is to the project:
 * - runner: runs project source it can be named for (a script, a module, files of its language);
 * - supervised: a runner inside a devsup supervisor's tree, judged by that supervisor's verdict;
 * - supervisor: restarts others on change (devsup run/up, nodemon, pm2, node --watch, a reloader);
 * - wrapper: starts another program and runs no project code itself (npm, `sh -c`, timeout, shims);
 * - other: works in the project but runs nothing devsup can tie to its sources.
 * Only runners and supervised processes get a verdict: a wrapper's or supervisor's code is not the
 * project's, so an edit cannot make it stale, and stopping it for one would take down what it runs.
 */
export type Role = 'runner' | 'supervised' | 'supervisor' | 'wrapper' | 'other';

/** The source families a runner is judged against; `program` is an executable under the root, judged by itself. */
export type Language = 'node' | 'python' | 'ruby' | 'perl' | 'php' | 'lua' | 'shell' | 'program';

export interface Classified {
  role: Role;
  /** What it is, for people: `python`, `nodemon`, `devsup run`, `sh -c`, `pyenv shim`. */
  label: string;
  language?: Language;
  /** Absolute paths of the script or module it was started with (the interpreter's, then a tool's argument). */
  entries: string[];
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'fish', 'ksh', 'mksh', 'tcsh', 'csh']);

/** Programs that start another and run no project code themselves. */
const WRAPPERS = new Set([
  'npm', 'npx', 'yarn', 'yarnpkg', 'pnpm', 'pnpx', 'corepack', 'timeout', 'env', 'nice', 'ionice', 'nohup',
  'setsid', 'stdbuf', 'time', 'chrt', 'taskset', 'tini', 'dumb-init', 'xvfb-run', 'uv', 'uvx', 'poetry',
  'pipenv', 'pdm', 'hatch', 'rye', 'make', 'gmake', 'just', 'sudo', 'doas', 'script', 'unbuffer', 'flock',
  'cross-env', 'dotenv', 'concurrently', 'npm-run-all', 'run-p', 'run-s', 'foreman', 'honcho', 'overmind',
]);

/** Programs that restart another on change or on exit. */
const SUPERVISORS = new Set([
  'nodemon', 'pm2', 'forever', 'node-dev', 'ts-node-dev', 'tsnd', 'watchexec', 'entr', 'watchmedo',
  'air', 'reflex', 'cargo-watch', 'supervisord', 'devsup',
]);

/** Interpreter name -> language; versioned names (python3.12, node20) are matched by prefix below. */
const INTERPRETERS: ReadonlyArray<[RegExp, Language]> = [
  [/^(node|nodejs)(\d+)?$/, 'node'],
  [/^(bun|deno)$/, 'node'],
  [/^(python|pypy)(\d+(\.\d+)*)?$/, 'python'],
  [/^ruby(\d+(\.\d+)*)?$/, 'ruby'],
  [/^perl(\d+(\.\d+)*)?$/, 'perl'],
  [/^php(\d+(\.\d+)*)?(-cli)?$/, 'php'],
  [/^lua(jit|\d+(\.\d+)*)?$/, 'lua'],
];

/** Node options that take the next word as their value (`-r ./hook.js`). */
const NODE_VALUE_OPTIONS: ReadonlySet<string> = new Set([
  '-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--env-file',
  '--title', '--input-type', '--inspect-port', '--watch-path', '--stack-size',
]);

export interface ClassifyContext {
  /** Pids of devsup supervisors found through their lock files, whatever their command line looks like. */
  devsupPids: ReadonlySet<number>;
  /** Whether a path is the project's: an executable elsewhere (a database server, a system tool) is no project code. */
  inProject?: (path: string) => boolean;
}

/** Retitled programs (npm, pm2) put their whole title in the first slot and blank the rest. */
function words(argv: readonly string[]): string[] {
  const kept = argv.filter((w, i) => i === 0 || w !== '');
  return kept.length === 1 && kept[0]!.includes(' ') ? kept[0]!.split(/\s+/) : kept;
}

const nameOf = (word: string) => basename(word).replace(/^-/, '');

/** `foo` for `/x/node_modules/foo/bin/cli.js`, `/x/node_modules/.bin/foo` or `/usr/lib/node_modules/@s/foo/...`. */
export function toolName(script: string): string {
  const parts = script.split(/[\\/]/);
  const at = parts.lastIndexOf('node_modules');
  if (at >= 0 && parts[at + 1] !== undefined) {
    const pkg = parts[at + 1]!;
    if (pkg === '.bin') return (parts[at + 2] ?? '').replace(/\.(c|m)?js$/, '');
    return pkg.startsWith('@') ? `${pkg}/${parts[at + 2] ?? ''}` : pkg;
  }
  return basename(script).replace(/\.(c|m)?js$/, '').replace(/-cli$/, '');
}

const NPM_LIKE = new Set(['npm', 'npx', 'yarn', 'pnpm', 'corepack', 'yarnpkg', 'pnpx']);

function isShim(word: string): boolean {
  return /[\\/](shims|\.pyenv[\\/]libexec|\.asdf[\\/]bin|\.rbenv[\\/]libexec|\.nodenv[\\/]libexec)[\\/]/.test(word);
}

function shimLabel(word: string): string {
  const m = /[\\/]\.(pyenv|asdf|rbenv|nodenv|volta|mise|rtx)[\\/]/.exec(word);
  return `${m?.[1] ?? 'version-manager'} shim`;
}

/** The first word that is not an option, skipping the values of options that take one. */
function firstOperand(args: readonly string[], valueOptions: ReadonlySet<string>): { index: number; word?: string } {
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === '--') return { index: i + 1, word: args[i + 1] };
    if (!w.startsWith('-') || w === '-') return { index: i, word: w };
    if (valueOptions.has(w)) i++;
  }
  return { index: args.length };
}

const abs = (word: string, cwd: string | undefined): string | undefined =>
  isAbsolute(word) ? word : cwd === undefined ? undefined : resolve(cwd, word);

/** How `argv` relates to project code; the verdict itself is the scan's. */
export function classify(row: ProcInfo, ctx: ClassifyContext): Classified {
  const w = words(row.cmdline);
  const first = w[0] ?? '';
  const name = nameOf(first);
  if (ctx.devsupPids.has(row.pid)) return devsup(w);
  if (isShim(first)) return { role: 'wrapper', label: shimLabel(first), entries: [] };
  if (name === 'devsup') return devsup(w);
  if (name === 'PM2' || name === 'pm2') return { role: 'supervisor', label: 'pm2', entries: [] };
  if (SUPERVISORS.has(name)) return { role: 'supervisor', label: name, entries: [] };
  if (WRAPPERS.has(name)) return { role: 'wrapper', label: name, entries: [] };
  if (SHELLS.has(name)) return shell(w.slice(1), name, row.cwd);
  const lang = INTERPRETERS.find(([re]) => re.test(name))?.[1];
  if (lang === 'node') return node(w, name, row.cwd);
  if (lang === 'python') return python(w.slice(1), row.cwd);
  if (lang !== undefined) {
    const { word } = firstOperand(w.slice(1), new Set(['-e', '-r', '-I', '-x']));
    const entry = word === undefined ? undefined : abs(word, row.cwd);
    return { role: 'runner', label: name.replace(/\d.*$/, ''), language: lang, entries: entry ? [entry] : [] };
  }
  // An executable of the project itself (a built server, a script run by its shebang line).
  const exe = first.includes('/') ? abs(first, row.cwd) : undefined;
  if (exe !== undefined && (ctx.inProject?.(exe) ?? true)) return { role: 'runner', label: name, language: 'program', entries: [exe] };
  return { role: 'other', label: name, entries: [] };
}

function devsup(w: readonly string[]): Classified {
  let at = w.findIndex((x) => /^devsup(\.js)?$/.test(basename(x)));
  // Known by its lock file alone: the script is the interpreter's first operand.
  if (at < 0) at = w.findIndex((x, i) => i > 0 && !x.startsWith('-'));
  const sub = w.slice(at + 1).find((x) => !x.startsWith('-')) ?? 'run';
  const supervises = sub === 'run' || sub === 'up';
  return { role: supervises ? 'supervisor' : 'other', label: `devsup ${sub}`, entries: [] };
}

function shell(args: readonly string[], name: string, cwd: string | undefined): Classified {
  if (args.some((a) => /^-[a-z]*c[a-z]*$/.test(a))) return { role: 'wrapper', label: `${name} -c`, entries: [] };
  const { word } = firstOperand(args, new Set(['-o', '-O', '+O']));
  if (word === undefined) return { role: 'other', label: name, entries: [] };
  if (isShim(word)) return { role: 'wrapper', label: shimLabel(word), entries: [] };
  const entry = abs(word, cwd);
  return { role: 'runner', label: name, language: 'shell', entries: entry ? [entry] : [] };
}

function node(w: readonly string[], name: string, cwd: string | undefined): Classified {
  const args = w.slice(1);
  // `node --watch x.js` restarts a child that runs x.js; the parent only watches.
  if (args.some((a) => a === '--watch' || a.startsWith('--watch=') || a === '--watch-path' || a.startsWith('--watch-path='))) {
    return { role: 'supervisor', label: `${name} --watch`, entries: [] };
  }
  let rest = args;
  if ((name === 'bun' || name === 'deno') && (rest[0] === 'run' || rest[0] === 'x')) rest = rest.slice(1);
  const { index, word } = firstOperand(rest, NODE_VALUE_OPTIONS);
  const evalAt = rest.findIndex((a) => /^(-e|--eval|-p|--print)(=|$)/.test(a));
  if (word === undefined || (evalAt >= 0 && evalAt < index)) return { role: 'runner', label: name, language: 'node', entries: [] };
  const script = abs(word, cwd);
  const tool = toolName(word);
  const toolArgs = rest.slice(index + 1);
  if (tool === 'devsup' || /[\\/]devsup[\\/](bin|dist)[\\/]/.test(word)) return devsup(w);
  if (NPM_LIKE.has(tool) || WRAPPERS.has(tool)) return { role: 'wrapper', label: tool, entries: [] };
  if (SUPERVISORS.has(tool) || tool === 'pm2') return { role: 'supervisor', label: tool, entries: [] };
  if (tool === 'tsx' && toolArgs[0] === 'watch') return { role: 'supervisor', label: 'tsx watch', entries: [] };
  if (SELF_RELOADING[tool]?.(toolArgs)) return { role: 'supervisor', label: `${tool} (reloads itself)`, entries: [] };
  const entries = script ? [script] : [];
  // A tool from node_modules (tsx, vite, jest) loads the project's files; the first operand it is given is the entry.
  if (/[\\/]node_modules[\\/]/.test(word)) {
    const target = firstOperand(toolArgs, new Set()).word;
    const t = target === undefined ? undefined : abs(target, cwd);
    if (t !== undefined && /\.[cm]?[jt]sx?$/.test(t)) entries.push(t);
    return { role: 'runner', label: tool, language: 'node', entries };
  }
  return { role: 'runner', label: name, language: 'node', entries };
}

const watching = (a: readonly string[]) => a.some((x) => x === '--watch' || x === '-w' || x.startsWith('--watch='));
/**
 * Node tools that load the project's changed modules again by themselves (dev servers with hot
 * reload, test runners and compilers in watch mode): what they serve or run follows the files, so
 * an edit does not leave them running old code. Each is named by its package and given its arguments.
 */
const SELF_RELOADING: Record<string, (args: readonly string[]) => boolean> = {
  vite: (a) => !['build', 'preview', 'optimize'].includes(a[0] ?? ''),
  vitest: (a) => !a.some((x) => x === 'run' || x === '--run' || x === 'bench'),
  jest: (a) => a.some((x) => x === '--watch' || x === '--watchAll'),
  next: (a) => a[0] === 'dev',
  nuxt: (a) => a[0] === 'dev',
  nuxi: (a) => a[0] === 'dev',
  astro: (a) => a[0] === 'dev',
  remix: (a) => a[0] === 'dev',
  storybook: (a) => a[0] === 'dev',
  'react-scripts': (a) => a[0] === 'start',
  '@angular/cli': (a) => a[0] === 'serve' || a[0] === 's',
  'webpack-dev-server': () => true,
  webpack: (a) => a[0] === 'serve' || watching(a),
  'webpack-cli': (a) => a[0] === 'serve' || watching(a),
  parcel: (a) => a[0] !== 'build',
  tsc: watching,
  typescript: watching,
  esbuild: watching,
  rollup: watching,
  tsup: watching,
};

const PY_WRAPPERS = new Set(['poetry', 'pipenv', 'pdm', 'hatch', 'rye', 'uv', 'tox', 'nox', 'pre-commit']);
const PY_SUPERVISORS = new Set(['watchmedo', 'supervisord', 'honcho']);
const PY_RELOADING_SERVERS = new Set(['uvicorn', 'gunicorn', 'hypercorn']);

function python(args: readonly string[], cwd: string | undefined): Classified {
  const inline: Classified = { role: 'runner', label: 'python', language: 'python', entries: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return pythonScript(args[i + 1], args.slice(i + 2), cwd);
    if (!a.startsWith('-') || a === '-') return pythonScript(a, args.slice(i + 1), cwd);
    if (a.startsWith('--')) continue;
    // Short flags combine (`-um pytest`, `-mpytest`); c, m, W and X end the group and take a value.
    for (let k = 1; k < a.length; k++) {
      const flag = a[k]!;
      if (flag === 'c') return inline;
      if (flag === 'm') {
        const mod = k + 1 < a.length ? a.slice(k + 1) : args[i + 1];
        const rest = args.slice(k + 1 < a.length ? i + 1 : i + 2);
        return pythonTool(mod ?? '', rest, cwd, moduleFile(mod, cwd));
      }
      if (flag === 'W' || flag === 'X') {
        if (k + 1 === a.length) i++;
        break;
      }
    }
  }
  return inline;
}

function pythonScript(word: string | undefined, rest: readonly string[], cwd: string | undefined): Classified {
  if (word === undefined || word === '-') return { role: 'runner', label: 'python', language: 'python', entries: [] };
  if (isShim(word)) return { role: 'wrapper', label: shimLabel(word), entries: [] };
  const script = abs(word, cwd);
  // An installed program (pytest, flask, poetry) is named by its script; a project's own script is just python.
  return pythonTool(word.endsWith('.py') ? '' : basename(word), rest, cwd, script);
}

/** A Python program named by its script or module: pytest and flask run project code, poetry and watchmedo do not. */
function pythonTool(tool: string, rest: readonly string[], cwd: string | undefined, entry: string | undefined): Classified {
  const entries = entry ? [entry] : [];
  if (PY_WRAPPERS.has(tool) || (tool === 'pipx' && rest[0] === 'run')) return { role: 'wrapper', label: tool, entries: [] };
  if (PY_SUPERVISORS.has(tool)) return { role: 'supervisor', label: tool, entries: [] };
  if (PY_RELOADING_SERVERS.has(tool) && rest.some((a) => a === '--reload' || a.startsWith('--reload='))) {
    return { role: 'supervisor', label: `${tool} --reload`, entries: [] };
  }
  const target = rest.find((a) => !a.startsWith('-') && a.endsWith('.py'));
  const t = target === undefined ? undefined : abs(target, cwd);
  if (t !== undefined && !entries.includes(t)) entries.push(t);
  return { role: 'runner', label: tool === '' ? 'python' : tool.split('.')[0]!, language: 'python', entries };
}

/** `-m pkg.mod` runs pkg/mod.py or pkg/mod/__main__.py from the cwd when it is a project module. */
function moduleFile(mod: string | undefined, cwd: string | undefined): string | undefined {
  if (mod === undefined || cwd === undefined || !/^[\w.]+$/.test(mod)) return undefined;
  const base = resolve(cwd, mod.split('.').join(sep));
  return [`${base}.py`, join(base, '__main__.py')].find((f) => existsSync(f));
}
