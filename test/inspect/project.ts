import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pastRacyWindow, readFileState } from '../../src/watch/file-state.js';
import { indexPath, saveIndex } from '../../src/watch/index-file.js';
import { isAlive, procId, procStartMs } from '../../src/process/proc-start.js';
import { signalIfAlive } from '../../src/process/stop-tree.js';
import type { ProcId } from '../../src/process/types.js';
import { trackPid } from '../helpers/procs.js';
import { waitFor } from '../helpers/wait.js';

/** A long-running node program that starts one child outside the project and reports both pids. */
export const SERVER_JS = `
const { spawn } = require('node:child_process');
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { cwd: '/', stdio: 'ignore' });
console.log('ready pid=' + process.pid + ' child=' + child.pid);
setInterval(() => {}, 1000);
`;

/** Stays up and reports itself; has no child. */
export const IDLE_JS = `console.log('ready pid=' + process.pid);\nsetInterval(() => {}, 1000);\n`;

export interface Started {
  proc: ChildProcess;
  id: ProcId;
  child?: ProcId;
  startMs: number;
}

/**
 * Starts `argv` in `cwd` as its own process group (like a shell job) and waits for its ready line.
 * Every pid it reports is tracked, so nothing outlives the test.
 */
export async function startReady(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Started> {
  const proc = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  trackPid(proc.pid);
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const line = await waitFor(() => /ready pid=\d+.*\n/.exec(out)?.[0], `ready line from ${argv.join(' ')}; got: ${out}`, 15_000);
  const childPid = /child=(\d+)/.exec(line)?.[1];
  if (childPid !== undefined) trackPid(Number(childPid));
  const id = procId(proc.pid!);
  const startMs = procStartMs(proc.pid!);
  if (id === undefined || startMs === undefined) throw new Error(`${argv.join(' ')} exited right after starting`);
  const child = childPid === undefined ? undefined : procId(Number(childPid));
  return child ? { proc, id, child, startMs } : { proc, id, startMs };
}

/** Waits until now is well past the process's start, so an edit made next is unambiguously after it. */
export async function pastStart(p: Started, ms = 150): Promise<void> {
  await waitFor(() => Date.now() > p.startMs + ms, `${ms} ms past the start of pid ${p.id.pid}`, ms + 5_000);
}

/** The very process (pid and start), alive and not a zombie. */
export const alive = (id: ProcId | undefined): boolean => id !== undefined && isAlive(id);

/** SIGKILLs whatever a test started that is still the same process, and waits until it is gone. */
export async function killAll(...ps: (Started | undefined)[]): Promise<void> {
  const ids = ps.flatMap((p) => [p?.id, p?.child]).filter((id): id is ProcId => id !== undefined);
  for (const id of ids) signalIfAlive(id, 'SIGKILL');
  for (const id of ids) await gone(id, 'a process the test started');
}

/** Waits for a killed process to be gone (reaped or a zombie). */
export async function gone(id: ProcId | undefined, what: string): Promise<void> {
  await waitFor(() => !alive(id), `${what} (pid ${id?.pid}) to be gone`, 5_000);
}

/**
 * Saves devsup's file index of `root` the way a supervisor does (.devsup/index/, every file's
 * content hash and stat identity), after waiting until every file is old enough to be trusted.
 */
export async function saveProjectIndex(root: string, files: readonly string[]): Promise<string> {
  const paths = files.map((f) => join(root, f));
  await waitFor(() => paths.every((p) => pastRacyWindow(statSync(p).ctimeMs)), 'files old enough to trust', 5_000);
  const states = new Map(paths.map((p) => [p, readFileState(p, relative(root, p))!]));
  const file = indexPath(join(root, '.devsup'), [root]);
  await saveIndex(file, root, states, (p) => relative(root, p));
  return file;
}
