import type { Child, SpawnSpec } from '../process/spawn.js';
import type { ProcId, StopResult } from '../process/types.js';

export type { Child } from '../process/spawn.js';

export interface StopRequest {
  signal: NodeJS.Signals;
  graceMs: number;
  /** A tree captured earlier (leftovers of a child that exited); otherwise captured at the stop. */
  captured?: ProcId[];
  /** Settles when the root is seen to exit: the stop looks at the tree again right then. */
  exited?: Promise<unknown>;
}

/**
 * Everything the worker does to processes, behind one seam: the real port wraps src/process, tests
 * pass a fake that records calls, never exits, or throws.
 */
export interface ProcessPort {
  /** Rejects with a SpawnError (src/process/spawn.ts) when the command cannot be started. */
  spawn(spec: SpawnSpec): Promise<Child>;
  /** Signals the tree, waits, kills what is left; may reject (e.g. EMFILE reading /proc). */
  stopTree(root: ProcId, req: StopRequest): Promise<StopResult>;
  /** The live members of a tree whose root just exited (its group, its descendants). */
  captureTree(root: ProcId): Promise<ProcId[]>;
  /**
   * Last resort when a stop fails: SIGKILL to the child's process group, which needs no file
   * descriptor. Only called while the child has not been reaped, so the group id is still its own.
   */
  killGroup(pgid: number): void;
}
