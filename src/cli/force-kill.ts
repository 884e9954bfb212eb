import type { Bus } from '../core/bus.js';
import { procId } from '../process/proc-start.js';
import { captureTree, signalIfAlive } from '../process/stop-tree.js';
import { readProcTable } from '../process/table.js';
import type { ProcId } from '../process/types.js';

export interface Killed {
  pid: number;
  command: string;
}

/**
 * Knows the root of every tree devsup started (pid and start time, so a reused pid is never hit) and
 * kills all of them at once with SIGKILL: the answer to a second Ctrl-C from someone who will not
 * wait for the grace period. The ordinary stop that is under way then finds the trees gone.
 */
export function trackTrees(bus: Bus): { killAll(): Promise<Killed[]>; close(): void } {
  const roots = new Map<string, ProcId>();
  const off = bus.on((e) => {
    if (e.type === 'worker-started') {
      const id = procId(e.pid);
      if (id) roots.set(e.worker, id);
    }
  });
  return {
    async killAll() {
      const table = await readProcTable();
      const commands = new Map(table.map((p) => [p.pid, p.cmdline.join(' ')]));
      const killed: Killed[] = [];
      for (const root of roots.values()) {
        for (const id of await captureTree(root, table)) {
          if (signalIfAlive(id, 'SIGKILL')) killed.push({ pid: id.pid, command: commands.get(id.pid) ?? '?' });
        }
      }
      return killed;
    },
    close: off,
  };
}

/** `killed 3 processes: 4121 node server.js, …` for the terminal. */
export function describeKilled(killed: Killed[]): string {
  if (killed.length === 0) return 'nothing was left to kill';
  const list = killed.map((k) => `${k.pid} ${k.command.length > 60 ? `${k.command.slice(0, 59)}…` : k.command}`);
  return `killed ${killed.length === 1 ? '1 process' : `${killed.length} processes`} with SIGKILL: ${list.join(', ')}`;
}
