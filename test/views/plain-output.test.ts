import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BATCH_CHARS } from '../../src/core/behind.js';
import { jsonView } from '../../src/views/json.js';
import { plainView } from '../../src/views/plain.js';
import { waitFor } from '../helpers/wait.js';

/** A stream to give a view, and everything written to it so far. */
function collected(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let all = '';
  out.setEncoding('utf8').on('data', (d: string) => (all += d));
  return { out, text: () => all };
}

const output = (line: string) => ({ type: 'output' as const, worker: 'api', generation: 1, stream: 'stdout' as const, line });

describe('plain view output', () => {
  it('keeps child lines and its own lines in the order they came, though child lines are joined', async () => {
    const { out, text } = collected();
    const view = plainView(out, { showWorker: true, showOutput: true, ascii: true });
    view(output('one'));
    view(output('two'));
    view({ type: 'exited', worker: 'api', generation: 1, code: 3, signal: null, durationMs: 5 });
    view(output('three'));
    await waitFor(() => text().includes('three'), 'the last line');
    expect(text().split('\n').filter((l) => l !== '')).toEqual(['api | one', 'api | two', '[devsup] api exited with code 3 after 5ms', 'api | three']);
  });

  it('writes a batch as soon as it is full, without waiting for the turn to end', () => {
    const writes: string[] = [];
    const out = new PassThrough();
    const write = out.write.bind(out);
    out.write = ((chunk: string) => (writes.push(chunk), write(chunk))) as typeof out.write;
    out.resume();
    const view = plainView(out, { showWorker: true, showOutput: true, ascii: true });
    const line = 'x'.repeat(1000);
    for (let i = 0; i < 200; i++) view(output(line));
    // Synchronously, with no turn of the event loop: only full batches.
    expect(writes.length).toBeGreaterThanOrEqual(2);
    for (const w of writes) expect(w.length).toBeGreaterThanOrEqual(BATCH_CHARS);
    for (const w of writes) expect(w.length).toBeLessThan(BATCH_CHARS + 1100);
  });
  it("drops a child's screen clears and titles, and its colours where devsup shows none", async () => {
    const { out, text } = collected();
    const view = plainView(out, { showWorker: true, showOutput: true, ascii: true });
    view(output('\x1b[2J\x1b[H\x1b]0;pwned\x07\x1bc\x1b[31mFAILED\x1b[0m test_a'));
    await waitFor(() => text().includes('test_a'), 'the line');
    expect(text()).toBe('api | FAILED test_a\n');
  });
});

describe('json view output', () => {
  it('keeps events in order though output events are joined', async () => {
    const { out, text } = collected();
    const view = jsonView(out);
    view(output('one'));
    view({ type: 'note', worker: 'api', message: 'between' });
    view(output('two'));
    await waitFor(() => text().includes('"two"'), 'the last event');
    const events = text().trim().split('\n').map((l) => JSON.parse(l) as { type: string; line?: string; message?: string });
    expect(events.map((e) => e.line ?? e.message)).toEqual(['one', 'between', 'two']);
  });
});

describe('plain view of a cancelled task run', () => {
  it('says which change cancelled it, with no count of files changed before it', async () => {
    const { out, text } = collected();
    const view = plainView(out, { showWorker: false, ascii: true });
    view({
      type: 'task-finished',
      worker: 'tests',
      generation: 1,
      result: 'cancelled',
      code: null,
      signal: 'SIGTERM',
      durationMs: 1200,
      changedFiles: 0,
      cancelledBy: { stop: 'change', files: ['tests/test_slow.py'] },
    });
    await waitFor(() => text().includes('cancelled'), 'the cancelled line');
    expect(text()).toBe('[devsup] - cancelled after 1.2s: tests/test_slow.py changed while it ran\n');
  });
});

describe('plain view of finished task runs', () => {
  it('counts changed files only from a run that counted: not after cancelled ones alone', async () => {
    const { out, text } = collected();
    const view = plainView(out, { showWorker: false, ascii: true });
    const finished = (generation: number, result: 'passed' | 'failed' | 'cancelled', changedFiles: number) =>
      view({ type: 'task-finished', worker: 'tests', generation, result, code: result === 'cancelled' ? null : 0, signal: null, durationMs: 1000, changedFiles });
    finished(1, 'cancelled', 0);
    finished(2, 'passed', 0);
    finished(3, 'passed', 2);
    await waitFor(() => text().split('\n').length > 3, 'three lines');
    const lines = text().trimEnd().split('\n');
    expect(lines[1]).toBe('[devsup] + passed in 1.0s');
    expect(lines[2]).toBe('[devsup] + passed in 1.0s, 2 files changed since the previous run');
  });
});
