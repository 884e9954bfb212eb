import { createHash } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';

export const DEFAULT_NAME = 'default';

/** The one directory of a project devsup writes its state in (locks, sockets, index, history, logs). */
export const STATE_DIR_NAME = '.devsup';

/** `<root>/.devsup`. */
export function stateDirOf(root: string): string {
  return join(resolve(root), STATE_DIR_NAME);
}

/**
 * sun_path is 104 bytes on macOS and the BSDs, 108 on Linux, including the terminating NUL; the
 * smaller limit keeps a project that works on one system working on the other.
 */
export const MAX_SOCKET_PATH_BYTES = 103;

export interface ControlPaths {
  root: string;
  name: string;
  /** `<root>/.devsup`, 0700. */
  dir: string;
  lock: string;
  /** The socket's path in the project, used whenever it fits in sun_path. */
  localSocket: string;
  /** Where the socket's path is recorded when it lives in the runtime dir instead. */
  sockPathFile: string;
  children: string;
}

/** Names become file names, so they are kept to a safe alphabet. */
export function checkName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new UsageError(`invalid supervisor name "${name}": use letters, digits, '.', '_' and '-' (at most 64)`);
  }
  return name;
}

export function controlPaths(root: string, name = DEFAULT_NAME): ControlPaths {
  const r = resolve(root);
  const n = checkName(name);
  const dir = join(r, STATE_DIR_NAME);
  return {
    root: r,
    name: n,
    dir,
    lock: join(dir, `${n}.lock`),
    localSocket: join(dir, `${n}.sock`),
    sockPathFile: join(dir, `${n}.sock-path`),
    children: join(dir, `${n}.children.json`),
  };
}

export function fitsSunPath(path: string): boolean {
  return Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES;
}

/** A short per-user directory for sockets whose project path is too long. */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && xdg.startsWith('/') && existsSync(xdg)) {
    const dir = join(xdg, 'devsup');
    // The hashed name adds 22 bytes; an unusually long XDG dir falls back to /tmp.
    if (fitsSunPath(join(dir, `${'x'.repeat(16)}.sock`))) return dir;
  }
  return `/tmp/devsup-${process.getuid?.() ?? 'user'}`;
}

export function runtimeSocket(p: ControlPaths, env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256').update(`${p.root}\0${p.name}`).digest('hex').slice(0, 16);
  return join(runtimeDir(env), `${hash}.sock`);
}

/**
 * The nearest directory at or above `cwd` whose state directory passes `has`, or undefined: the
 * one walk up by which every command finds its project from a subdirectory.
 */
export function findUp(cwd: string, has: (stateDir: string) => boolean): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (has(join(dir, STATE_DIR_NAME))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

function holds(path: string, what: 'file' | 'dir'): boolean {
  try {
    // Not followed: devsup refuses a state directory that is a link, so one must not be found either.
    const st = lstatSync(path);
    return what === 'file' ? st.isFile() : st.isDirectory();
  } catch {
    return false;
  }
}

/**
 * The nearest directory at or above `cwd` where a supervisor of this name has a lock, so commands
 * work from a project's subdirectories; `cwd` itself when there is none.
 */
export function findProjectRoot(cwd: string, name = DEFAULT_NAME): string {
  const file = `${checkName(name)}.lock`;
  return findUp(cwd, (state) => holds(join(state, file), 'file')) ?? resolve(cwd);
}

/**
 * The project's state directory: the nearest `.devsup` at or above `cwd`, so `devsup history` from
 * a subdirectory reads the same history the project's runs wrote; null when there is none.
 */
export function findStateDir(cwd: string): string | null {
  const root = findUp(cwd, (state) => holds(state, 'dir'));
  return root === undefined ? null : stateDirOf(root);
}

/** Where a command that writes state puts it: the existing project state, or a new one in `cwd`. */
export function stateDirFor(cwd: string): string {
  return findStateDir(cwd) ?? stateDirOf(cwd);
}
