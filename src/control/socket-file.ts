import { lstatSync, unlinkSync, type Stats } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { DevsupError } from '../core/errors.js';
import { ensurePrivateDir, errCode, keepOutOfGit } from '../state/files.js';
import { fitsSunPath, runtimeSocket, type ControlPaths } from '../state/paths.js';

/** The project's own socket path when it fits in sun_path, else one in the per-user runtime dir. */
export async function prepareSocketPath(p: ControlPaths, env: NodeJS.ProcessEnv = process.env): Promise<{ path: string; inRuntimeDir: boolean }> {
  await ensurePrivateDir(p.dir);
  await keepOutOfGit(p.dir);
  if (fitsSunPath(p.localSocket)) return { path: p.localSocket, inRuntimeDir: false };
  const path = runtimeSocket(p, env);
  await ensurePrivateDir(dirname(path));
  return { path, inRuntimeDir: true };
}

/** True when something accepts connections on `path`. */
export function answers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (ok: boolean): void => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Removes the socket file a dead supervisor left behind. Called with the lock held; a socket that
 * still answers means a supervisor runs without its lock (someone deleted it), which is refused.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let st: Stats;
  try {
    st = await lstat(path);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return;
    throw err;
  }
  if (st.isDirectory()) throw new DevsupError(`${path} is a directory; cannot put the control socket there`, 'control-socket', 2);
  if (st.isSocket() && (await answers(path))) {
    throw new DevsupError(`another devsup is already answering on ${path}; stop it or use --name`, 'already-running', 2);
  }
  await unlink(path).catch((err: unknown) => (errCode(err) === 'ENOENT' ? undefined : Promise.reject(err)));
}

export interface FileId {
  dev: number;
  ino: number;
}

export function fileId(path: string): FileId | undefined {
  try {
    const st = lstatSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/** Unlinks `path` only if it is still the very file we created: a successor may have replaced it. */
export function unlinkIfSame(path: string, id: FileId | undefined): void {
  const now = fileId(path);
  if (!id || !now || now.dev !== id.dev || now.ino !== id.ino) return;
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
