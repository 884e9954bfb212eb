import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/core/bus.js';
import { looksOneShot } from '../../src/worker/one-shot.js';
import { Worker } from '../../src/worker/worker.js';
import { FakePort } from './fake-port.js';
import { snap, spec } from './machine-kit.js';

describe('commands known to run to completion', () => {
  it.each([
    [['pytest', '-x'], true],
    [['python3', '-m', 'pytest', 'tests/'], true],
    [['python', '-m', 'unittest'], true],
    [['uv', 'run', 'pytest'], true],
    [['npx', 'jest'], true],
    [['npx', 'vitest', 'run'], true],
    [['node', '--test'], true],
    [['go', 'test', './...'], true],
    [['cargo', 'test'], true],
    [['npm', 'test'], true],
    [['FOO=1', 'tsc', '-p', '.'], true],
    ['pytest -q', true],
    [['npx', 'vitest'], false],
    [['jest', '--watch'], false],
    [['tsc', '-w'], false],
    [['node', 'server.js'], false],
    [['python3', 'app.py'], false],
    [['python3', '-m', 'http.server'], false],
    [['npm', 'start'], false],
    ['pytest && node server.js', false],
  ] as const)('%j → %s', (command, expected) => {
    expect(looksOneShot(command as string[] | string)).toBe(expected);
  });

  it('a run of one is judged like a task from its first generation', async () => {
    const port = new FakePort();
    const latest = snap('aaaa', 1);
    const w = new Worker(spec({ exitIsResult: true, oneShot: true }), new Bus(), { latest: () => latest }, { port });
    const plain = new Worker(spec({ exitIsResult: true }), new Bus(), { latest: () => latest }, { port });
    await Promise.all([w.start(), plain.start()]);
    expect(w.kind).toBe('task');
    expect(plain.kind).toBe('service');
    await Promise.all([w.shutdown(), plain.shutdown()]);
  });
});
