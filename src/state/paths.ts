import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';

export const DEFAULT_NAME = 'default';

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
  const dir = join(r, '.devsup');
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
 * The nearest directory at or above `cwd` where a supervisor of this name has a lock, so commands
 * work from a project's subdirectories; `cwd` itself when there is none.
 */
export function findProjectRoot(cwd: string, name = DEFAULT_NAME): string {
  const start = resolve(cwd);
  const file = `${checkName(name)}.lock`;
  for (let dir = start; ; dir = dirname(dir)) {
    try {
      if (statSync(join(dir, '.devsup', file)).isFile()) return dir;
    } catch {
      /* not here */
    }
    if (dirname(dir) === dir) return start;
  }
}
