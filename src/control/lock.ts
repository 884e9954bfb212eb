import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { link, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { DevsupError } from '../core/errors.js';
import { isAlive, procId } from '../process/proc-start.js';
import { errCode } from '../state/files.js';

export interface LockInfo {
  v: 1;
  pid: number;
  /** With pid, the owner's ProcId: a reused pid does not make a dead supervisor look alive. */
  start: string;
  socketPath: string;
  root: string;
  name: string;
  startedAt: string;
}

export interface ControlLock {
  readonly info: LockInfo;
  /** Removes the lock if it is still ours. */
  release(): Promise<void>;
  /** The same, for a process 'exit' handler, where nothing asynchronous runs. */
  releaseSync(): void;
}

export class AlreadyRunningError extends DevsupError {
  constructor(readonly pid: number) {
    super(`another devsup is already running for this project (pid ${pid}); stop it or use --name`, 'already-running', 2);
  }
}

export async function readLock(path: string): Promise<LockInfo | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  return parseLock(text);
}

export function parseLock(text: string): LockInfo | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockInfo>;
    if (typeof o.pid !== 'number' || typeof o.start !== 'string' || typeof o.socketPath !== 'string') return undefined;
    return o as LockInfo;
  } catch {
    return undefined;
  }
}

export function ownerAlive(info: LockInfo): boolean {
  return isAlive({ pid: info.pid, start: info.start });
}

/** A breaker holds `<lock>.break` for a few syscalls; one this old belongs to a breaker that crashed. */
const BREAK_STALE_MS = 5000;
const ACQUIRE_MS = 10_000;

/**
 * Takes `path` for this process. The content is complete before the lock exists: it is written to a
 * temp file and linked into place, which (unlike rename) fails when a lock is already there, so two
 * supervisors starting at once cannot both win.
 */
export async function acquireLock(path: string, fields: Pick<LockInfo, 'socketPath' | 'root' | 'name'>): Promise<ControlLock> {
  const self = procId(process.pid);
  if (!self) throw new DevsupError('cannot read this process start time', 'lock', 1);
  const info: LockInfo = { v: 1, pid: self.pid, start: self.start, ...fields, startedAt: new Date().toISOString() };
  const text = `${JSON.stringify(info)}\n`;
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
  try {
    const deadline = Date.now() + ACQUIRE_MS;
    for (;;) {
      try {
        await link(tmp, path);
        break;
      } catch (err) {
        if (errCode(err) !== 'EEXIST') throw err;
      }
      if (Date.now() > deadline) throw new DevsupError(`could not take ${path}: other starters keep it busy`, 'lock', 1);
      await removeIfStale(path);
    }
  } finally {
    await rm(tmp, { force: true });
  }
  const ours = (now: LockInfo | undefined): boolean => now !== undefined && now.pid === info.pid && now.start === info.start;
  return {
    info,
    release: async () => {
      if (ours(await readLock(path).catch(() => undefined))) await rm(path, { force: true });
    },
    releaseSync: () => {
      try {
        if (ours(parseLock(readFileSync(path, 'utf8')))) rmSync(path, { force: true });
      } catch {
        /* already gone */
      }
    },
  };
}

async function readText(path: string): Promise<string | null> {
  return readFile(path, 'utf8').catch((err: unknown) => (errCode(err) === 'ENOENT' ? null : Promise.reject(err)));
}

/**
 * Throws when the lock's owner lives; otherwise deletes the stale lock. Deleting is done under a
 * second, short-lived lock and only if the lock is still the very one judged stale: without that,
 * a starter that judged late could delete the lock another starter has just taken.
 */
async function removeIfStale(path: string): Promise<void> {
  const seen = await readText(path);
  if (seen === null) return;
  const info = parseLock(seen);
  if (info && ownerAlive(info)) throw new AlreadyRunningError(info.pid);
  const breaker = `${path}.break`;
  try {
    await writeFile(breaker, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if (errCode(err) !== 'EEXIST') throw err;
    const st = await stat(breaker).catch(() => null);
    if (st && Date.now() - st.mtimeMs > BREAK_STALE_MS) await rm(breaker, { force: true });
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    return;
  }
  try {
    if ((await readText(path)) === seen) await rm(path, { force: true });
  } finally {
    await rm(breaker, { force: true });
  }
}
