import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBatcher } from '../../src/watch/batch.js';
import { WarningOnce } from '../../src/watch/limits.js';
import { WatchTargets, type OpenTarget, type TargetSink } from '../../src/watch/supervise.js';
import type { WatchEvent } from '../../src/watch/types.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** A stand-in backend whose opens and closes are recorded. */
function fakeBackend() {
  const sinks: TargetSink[] = [];
  const opens: number[] = [];
  let closes = 0;
  const open: OpenTarget = async (_t, sink) => {
    sinks.push(sink);
    opens.push(Date.now());
    return { close: async () => void closes++ };
  };
  return { open, sinks, opens, closes: () => closes };
}

function supervisor(open: OpenTarget) {
  const events: WatchEvent[] = [];
  const warnings: string[] = [];
  const sup = new WatchTargets({
    open,
    batcher: new EventBatcher((e) => events.push(...e)),
    warn: new WarningOnce((m) => warnings.push(m)),
    onWarning: (m) => warnings.push(m),
  });
  return { sup, events, warnings };
}

describe('WatchTargets', () => {
  it('reopens a failed backend at once, and after a pause when it fails again soon', async () => {
    const root = tempDir();
    const be = fakeBackend();
    const { sup, events, warnings } = supervisor(be.open);
    await sup.start([{ dir: root, whole: true, files: new Set() }]);
    be.sinks[0]!.failed(new Error('Error reading from inotify'));
    await waitFor(() => be.opens.length === 2, 'the first reopen');
    await waitFor(() => events.some((e) => e.kind === 'addDir' && e.path === root), 'a trigger to re-read');
    expect(warnings).toEqual([`watching ${root} failed: Error reading from inotify`]);
    const failedAt = Date.now();
    be.sinks[1]!.failed(new Error('Error reading from inotify'));
    await waitFor(() => be.opens.length === 3, 'the second reopen', 5000);
    expect(be.opens[2]! - failedAt).toBeGreaterThanOrEqual(900);
    expect(be.closes()).toBe(2);
    await sup.close();
    expect(be.closes()).toBe(3);
  });

  it('ignores a backend it has already replaced, and says nothing after close', async () => {
    const root = tempDir();
    const be = fakeBackend();
    const { sup, events } = supervisor(be.open);
    await sup.start([{ dir: root, whole: true, files: new Set() }]);
    be.sinks[0]!.failed(new Error('boom'));
    await waitFor(() => be.opens.length === 2, 'the reopen');
    be.sinks[0]!.emit([{ kind: 'change', path: `${root}/old.py` }]);
    be.sinks[1]!.emit([{ kind: 'change', path: `${root}/new.py` }]);
    await waitFor(() => events.some((e) => e.path.endsWith('new.py')), 'the live event');
    expect(events.some((e) => e.path.endsWith('old.py'))).toBe(false);
    await sup.close();
    be.sinks[1]!.emit([{ kind: 'change', path: `${root}/late.py` }]);
    be.sinks[1]!.vanished();
    expect(events.some((e) => e.path.endsWith('late.py'))).toBe(false);
    expect(be.opens).toHaveLength(2);
  });

  it('notices its root is gone when the backend does not say so, and reopens it when it returns', async () => {
    const root = join(tempDir(), 'src');
    mkdirSync(root);
    const be = fakeBackend();
    const { sup, events, warnings } = supervisor(be.open);
    await sup.start([{ dir: root, whole: true, files: new Set() }]);
    rmSync(root, { recursive: true });
    // The backend reports the file inside, but never the root itself.
    be.sinks[0]!.emit([{ kind: 'unlink', path: join(root, 'x.py') }]);
    await waitFor(() => events.some((e) => e.kind === 'unlinkDir' && e.path === root), 'the root to be missed', 2000);
    expect(warnings).toEqual([`watched directory ${root} disappeared; waiting for it to come back`]);
    expect(be.closes()).toBe(1);
    mkdirSync(root);
    await waitFor(() => be.opens.length === 2, 'the reopen', 3000);
    await waitFor(() => events.some((e) => e.kind === 'addDir' && e.path === root), 'a trigger to re-read');
    await sup.close();
  });
});
