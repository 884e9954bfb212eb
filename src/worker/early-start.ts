import { diffSnapshots, isEmptyChange, type Snapshot } from '../watch/snapshot.js';
import type { Input } from './machine.js';

/**
 * Early start: a generation started on the tree as the previous run saved it (a provisional
 * snapshot) is confirmed when the files turn out to be what was saved, refuted when they differ or
 * cannot be looked at. A refuted running generation needs nothing here: the tree reports the
 * difference as a change and the generation is stale like after any edit. A finished task run on
 * it is filed only once this answers, so no result lands under a code id that was not the code's.
 */
export async function verifyProvisional(provisional: Snapshot, verified: () => Promise<Snapshot>): Promise<Input> {
  try {
    const real = await verified();
    const same = provisional.unknown ? isEmptyChange(diffSnapshots(provisional, real)) : real.codeId === provisional.codeId;
    return same ? { type: 'confirmed', provisional, real } : { type: 'refuted', provisional };
  } catch {
    return { type: 'refuted', provisional };
  }
}
