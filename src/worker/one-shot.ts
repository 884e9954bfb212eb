import { basename } from 'node:path';

/**
 * Commands that run to completion by their nature (test runners, type checkers, linters) when not
 * asked to watch. A `run` of one of them is judged like a task from its first generation; any other
 * command becomes one only once a generation has exited by itself (see the machine's `oneShot`).
 */
const ONE_SHOT = new Set(['pytest', 'py.test', 'mocha', 'jest', 'tsc', 'mypy', 'pyright', 'eslint', 'tox', 'nox']);
/** `python -m X` for these X. */
const PYTHON_MODULES = new Set(['pytest', 'unittest', 'mypy', 'tox', 'nox']);
/** `vitest run`, `go test`, `cargo test`, `npm test`, `ruff check`… */
const SUBCOMMANDS: Record<string, ReadonlySet<string>> = {
  vitest: new Set(['run']),
  go: new Set(['test', 'vet', 'build']),
  cargo: new Set(['test', 'check', 'build', 'clippy']),
  npm: new Set(['test', 't']),
  pnpm: new Set(['test']),
  yarn: new Set(['test']),
  ruff: new Set(['check']),
};
const WATCH_FLAGS = /^(--watch|--watchAll|-w|--watch=.*)$/;

export function looksOneShot(command: string[] | string): boolean {
  const words = typeof command === 'string' ? command.trim().split(/\s+/) : command;
  // Through the shell the command may be anything (`a && b`): only the last step would count.
  if (typeof command === 'string' && /[;&|]/.test(command)) return false;
  if (words.some((w) => WATCH_FLAGS.test(w))) return false;
  let rest = words.filter((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
  let name = nameOf(rest[0]);
  if (name === 'npx' || name === 'uv' || name === 'poetry' || name === 'pipenv') {
    rest = rest.slice(rest[1] === 'run' ? 2 : 1);
    name = nameOf(rest[0]);
  }
  if (/^python(\d(\.\d+)?)?$/.test(name)) {
    const m = rest.indexOf('-m');
    return m >= 0 && PYTHON_MODULES.has(rest[m + 1] ?? '');
  }
  if (name === 'node') return rest.includes('--test');
  if (ONE_SHOT.has(name)) return true;
  const sub = SUBCOMMANDS[name];
  return sub !== undefined && sub.has(rest.slice(1).find((w) => !w.startsWith('-')) ?? '');
}

function nameOf(word: string | undefined): string {
  return word === undefined ? '' : basename(word).toLowerCase();
}
