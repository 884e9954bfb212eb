import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { startHarness, stopHarnesses, type Ev } from './rig.js';

afterEach(stopHarnesses);

describe('output-ended', () => {
  it('comes once per generation, after its last line (one without a newline included)', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'say.mjs'), "process.stdout.write('first\\n');\nprocess.stderr.write('on stderr\\n');\nprocess.stdout.write('last, no newline');\n");
    const h = await startHarness({ root, workers: [{ name: 'say', kind: 'task', command: ['node', 'say.mjs'] }] });
    await h.waitEvent((e) => e.type === 'output-ended' && e.worker === 'say', 'the output ended');
    await h.waitEvent((e) => e.type === 'task-finished' && e.worker === 'say', 'the run finished');
    const mine = h.events().filter((e: Ev) => e.worker === 'say' && (e.type === 'output' || e.type === 'output-ended'));
    expect(mine.map((e) => (e.type === 'output' ? String(e.line) : e.type))).toEqual(
      expect.arrayContaining(['first', 'on stderr', 'last, no newline', 'output-ended']),
    );
    expect(mine.at(-1)).toMatchObject({ type: 'output-ended', generation: 1 });
    expect(mine.filter((e) => e.type === 'output-ended')).toHaveLength(1);
  });
});
