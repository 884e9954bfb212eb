import { spawnChild } from '../process/spawn.js';
import { captureTree, stopTree } from '../process/stop-tree.js';
import type { ProcessPort } from './port.js';

/** The port onto real processes. */
export const realPort: ProcessPort = {
  spawn: spawnChild,
  stopTree: (root, req) => stopTree(root, { signal: req.signal, graceMs: req.graceMs, captured: req.captured, exited: req.exited }),
  captureTree: (root) => captureTree(root),
  killGroup(pgid) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  },
};
