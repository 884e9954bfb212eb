import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess } from '../helpers/devsup.js';
import { tempDir } from '../helpers/tmp.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

/** The documented field names of each event (README, "JSON events"): a stable interface. */
const FIELDS: Record<string, string[]> = {
  watching: ['backend', 'files', 'roots', 'worker'],
  'worker-starting': ['generation', 'reason', 'worker'],
  'worker-started': ['codeId', 'generation', 'pid', 'restart', 'spawnMs', 'startedAt', 'worker'],
  ready: ['generation', 'how', 'worker'],
  change: ['changes', 'seq', 'worker'],
  stale: ['files', 'generation', 'restarting', 'worker'],
  stopping: ['generation', 'pid', 'reason', 'signal', 'worker'],
  stopped: ['durationMs', 'generation', 'how', 'survivors', 'treeSize', 'worker'],
  exited: ['code', 'durationMs', 'generation', 'signal', 'worker'],
  'task-finished': ['changedFiles', 'code', 'durationMs', 'generation', 'result', 'signal', 'worker'],
  waiting: ['for', 'worker'],
  shutdown: ['signal'],
};

describe('JSON events', () => {
  it('carry exactly the documented fields, in a stable order of events', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'app.mjs'), "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000); console.log('UP');\n");
    const p = new DevsupProcess(['run', '--json', '--', 'node', 'app.mjs'], { cwd: root });
    running.push(p);
    await p.waitForLine(/^UP$/);
    // A command never seen before is ready once it listens, or after a while when it does not.
    await p.waitForEvent((e) => e.type === 'ready', 'ready');
    writeFileSync(join(root, 'app.mjs'), "console.log('DONE');\n");
    await p.waitForEvent((e) => e.type === 'task-finished', 'the second generation ends by itself');
    expect(await p.stop('SIGINT')).toBe(130);
    const evs = p.events();
    for (const e of evs) {
      expect(e.v, e.type).toBe(1);
      expect(Number.isNaN(Date.parse(String(e.t))), e.type).toBe(false);
      const keys = Object.keys(e).filter((k) => k !== 'v' && k !== 't' && k !== 'type').sort();
      if (FIELDS[e.type]) expect(keys, e.type).toEqual(FIELDS[e.type]);
    }
    expect(evs.map((e) => e.type)).toEqual([
      'watching',
      'worker-starting',
      'worker-started',
      'ready',
      'change',
      'stale',
      'stopping',
      'stopped',
      'worker-starting',
      'worker-started',
      'ready',
      'exited',
      'task-finished',
      'waiting',
      'shutdown',
    ]);
    const restart = evs.find((e) => e.type === 'worker-started' && e.generation === 2)!.restart as Record<string, unknown>;
    expect(Object.keys(restart).sort()).toEqual(['changes', 'reason', 'stopMs']);
    expect(restart.changes).toEqual({ added: [], modified: ['app.mjs'], removed: [] });
  });
});
