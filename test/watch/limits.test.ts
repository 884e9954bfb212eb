import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBatcher } from '../../src/watch/batch.js';
import { WarningOnce, watchLimitOf } from '../../src/watch/limits.js';
import { WatchTargets, type OpenTarget, type TargetSink } from '../../src/watch/supervise.js';
import type { WatchEvent } from '../../src/watch/types.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { closeRigs, startRig } from './rig.js';

// The message @parcel/watcher gives when inotify_add_watch fails for lack of watches.
vi.mock('@parcel/watcher', () => {
  const subscribe = () =>
    Promise.reject(new Error("inotify_add_watch on '/some/dir' failed: No space left on device"));
  return { default: { subscribe }, subscribe };
});

afterEach(closeRigs);

const enospc = () =>
  Object.assign(new Error('ENOSPC: System limit for number of file watchers reached, watch /x/f.ts'), { code: 'ENOSPC' });

describe('watch limits', () => {
  it('tells limit errors apart from others', () => {
    expect(watchLimitOf(enospc())).toBe('watches');
    expect(watchLimitOf(new Error("inotify_add_watch on '/a' failed: No space left on device"))).toBe('watches');
    expect(watchLimitOf(new Error('Unable to initialize inotify: Too many open files'))).toBe('instances');
    expect(watchLimitOf(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }))).toBeUndefined();
  });

  it('reports a flood of limit errors once, with the sysctl hint', () => {
    const said: string[] = [];
    const warn = new WarningOnce((m) => said.push(m));
    for (let i = 0; i < 5000; i++) warn.error(enospc(), 'watching /x');
    expect(said).toHaveLength(1);
    expect(said[0]).toContain('fs.inotify.max_user_watches');
  });

  it('stops repeating itself after many distinct errors', () => {
    const said: string[] = [];
    const warn = new WarningOnce((m) => said.push(m));
    for (let i = 0; i < 1000; i++) warn.error(new Error(`odd failure ${i}`), 'watching /x');
    expect(said.length).toBeLessThanOrEqual(101);
    expect(said.at(-1)).toBe('further watcher errors are not reported');
  });

  it('parcel out of watches: warns once and polls instead, still seeing changes', async () => {
    const root = tempDir();
    const rig = await startRig([root], { name: 'parcel', backend: 'parcel', pollIntervalMs: 50 });
    expect(rig.watcher.backend).toBe('parcel');
    expect(rig.warnings.filter((w) => w.includes('fs.inotify.max_user_watches'))).toHaveLength(1);
    expect(rig.warnings.join('\n')).toContain('polling every 50 ms instead');
    const file = join(root, 'a.py');
    writeFileSync(file, '');
    await rig.waitEvent(['add', 'change'], file);
  });

  it('a limit hit while running moves the target to the fallback, once', async () => {
    const root = tempDir();
    const events: WatchEvent[] = [];
    const warnings: string[] = [];
    let sink: TargetSink | undefined;
    const closed: string[] = [];
    const primary: OpenTarget = async (_t, s) => {
      sink = s;
      return { close: async () => void closed.push('primary') };
    };
    const fallbackOpens: TargetSink[] = [];
    const fallback: OpenTarget = async (_t, s) => {
      fallbackOpens.push(s);
      return { close: async () => void closed.push('fallback') };
    };
    const sup = new WatchTargets({
      open: primary,
      fallback: { open: fallback, name: 'polling' },
      batcher: new EventBatcher((e) => events.push(...e)),
      warn: new WarningOnce((m) => warnings.push(m)),
      onWarning: (m) => warnings.push(m),
    });
    await sup.start([{ dir: root, whole: true, files: new Set() }]);
    sink!.error(enospc());
    sink!.error(enospc());
    await waitFor(() => fallbackOpens.length === 1, 'the fallback to open');
    // The old backend is no longer heard once replaced.
    sink!.emit([{ kind: 'change', path: join(root, 'stale.py') }]);
    fallbackOpens[0]!.emit([{ kind: 'change', path: join(root, 'fresh.py') }]);
    await waitFor(() => events.some((e) => e.path.endsWith('fresh.py')), 'the fallback event');
    expect(events.filter((e) => e.path.endsWith('stale.py'))).toEqual([]);
    // A trigger for whatever changed while switching.
    expect(events).toContainEqual({ kind: 'addDir', path: root });
    expect(warnings.filter((w) => w.includes('max_user_watches'))).toHaveLength(1);
    expect(warnings).toContain(`watching ${root} with polling instead`);
    await sup.close();
    await sup.close();
    expect(closed).toEqual(['primary', 'fallback']);
  });
});
