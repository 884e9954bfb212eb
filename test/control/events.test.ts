import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { readyWorker } from './apps.js';
import { Cli, devsup, startHarness, stopHarnesses, type Ev } from './rig.js';

afterEach(stopHarnesses);

describe('devsup events, restart, stop, start, logs', () => {
  it('streams each event once, in order, with v, t and its fields, ending when the supervisor stops', async () => {
    const root = tempDir();
    const h = await startHarness({ root, workers: [readyWorker('web')] });
    await h.waitEvent((e) => e.type === 'ready', 'first start');
    const stream = new Cli(['events'], { cwd: root });
    // A hold and its release are harmless events: once one shows on the stream, the subscription is in place.
    await waitFor(async () => (await devsup(['hold', '--', 'true'], root), stream.out.events().some((e) => e.type === 'release')), 'subscribed');
    const r = await devsup(['restart', 'web'], root);
    expect(r).toMatchObject({ code: 0, stderr: 'restarted web' });
    const got = (): Ev[] => {
      const all = stream.out.events();
      return all.slice(all.findIndex((e) => e.type === 'stopping'));
    };
    await waitFor(() => got().find((e) => e.type === 'ready' && e.generation === 2), `gen 2 ready on the stream\n${stream.out.text()}`);

    const seq = got().filter((e) => e.type !== 'output' && e.type !== 'output-ended');
    expect(seq.map((e) => e.type)).toEqual(['stopping', 'stopped', 'worker-starting', 'worker-started', 'ready']);
    // The stopped generation's output ends once, after the stop began.
    expect(got().filter((e) => e.type === 'output-ended')).toMatchObject([{ generation: 1 }]);
    for (const e of got()) {
      expect(e.v).toBe(1);
      expect(new Date(e.t as string).toISOString()).toBe(e.t);
      expect(e.worker).toBe('web');
    }
    expect(seq[0]).toMatchObject({ generation: 1, reason: 'restart requested', signal: 'SIGTERM', pid: expect.any(Number) });
    expect(seq[1]).toMatchObject({ generation: 1, how: 'signal', survivors: 0 });
    expect(seq[2]).toMatchObject({ generation: 2, reason: 'manual' });
    expect(seq[3]).toMatchObject({ generation: 2, pid: expect.any(Number), codeId: expect.any(String), restart: { reason: 'manual' } });
    expect(seq[4]).toMatchObject({ generation: 2, how: 'log' });
    // The harness printed the same events in the same order (its --json view).
    const local = h.events().filter((e) => e.type !== 'output' && e.type !== 'output-ended' && e.type !== 'harness-ready');
    const idx = local.findIndex((e) => e.type === 'stopping');
    const noTime = ({ t: _, ...rest }: Ev) => rest;
    expect(local.slice(idx, idx + 5).map(noTime)).toEqual(seq.map(noTime));

    await h.stop();
    const end = await stream.exit;
    expect(end.code).toBe(0);
    const tail = stream.out.events().filter((e) => e.type !== 'output' && e.type !== 'output-ended').slice(-3);
    expect(tail).toMatchObject([{ type: 'shutdown', signal: 'SIGTERM' }, { type: 'stopping', reason: 'shutting down' }, { type: 'stopped' }]);
  });

  it('stops and starts a worker, restarts all, prints and follows logs', async () => {
    const root = tempDir();
    const h = await startHarness({ root, workers: [readyWorker('a'), readyWorker('b')] });
    await h.waitEvent((e) => e.type === 'ready' && e.worker === 'b', 'b ready');
    await h.waitEvent((e) => e.type === 'ready' && e.worker === 'a', 'a ready');

    expect(await devsup(['stop', 'a'], root)).toMatchObject({ code: 0, stderr: 'stopped a' });
    const stopped = await devsup(['status'], root);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(/^ {2}a +stopped/m);
    expect(await devsup(['start', 'a'], root)).toMatchObject({ code: 0, stderr: 'started a' });
    await h.waitEvent((e) => e.type === 'ready' && e.worker === 'a' && e.generation === 2, 'a started again');

    const follow = new Cli(['logs', 'b', '-f', '-n', '2'], { cwd: root });
    await waitFor(() => follow.out.text('stdout').includes('READY'), 'stored lines printed');
    expect(follow.out.text('stdout')).toMatch(/^── generation 1 started \(pid \d+, code [0-9a-f]+\) ──\nREADY pid=\d+ gen=1$/);

    expect(await devsup(['restart', '--all'], root)).toMatchObject({ code: 0, stderr: 'restarted all workers' });
    await waitFor(() => /READY pid=\d+ gen=2$/m.test(follow.out.text('stdout')), `followed output of gen 2\n${follow.out.text()}`);
    expect(follow.out.text('stdout').split('\n').slice(2)).toEqual([
      'SIGNAL SIGTERM',
      expect.stringMatching(/^── generation 2 started \(pid \d+, code [0-9a-f]+\) ──$/),
      expect.stringMatching(/^READY pid=\d+ gen=2$/),
    ]);
    follow.proc.kill('SIGTERM');
    await follow.exit;

    const logs = await devsup(['logs', 'a', '-n', '3'], root);
    expect(logs.stdout.split('\n')).toEqual([expect.stringMatching(/^SIGNAL SIGTERM$/), expect.stringMatching(/^── generation 3 started/), expect.stringMatching(/^READY pid=\d+ gen=3$/)]);

    expect(await devsup(['restart', 'a', '--all'], root)).toMatchObject({ code: 2, stderr: 'devsup: give worker names or --all, not both' });
    expect(await devsup(['stop', 'zzz'], root)).toMatchObject({ code: 2, stderr: 'devsup: unknown worker "zzz"; workers: a, b' });
    expect(await devsup(['logs', 'zzz'], root)).toMatchObject({ code: 2, stderr: 'devsup: unknown worker "zzz"; workers: a, b' });
  });
});
