import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { droppedSentence, OutputGate } from '../../src/core/behind.js';

/** A writable whose reader takes nothing until released, then everything at once. */
function stalled(): { out: Writable; written: string[]; release(): void } {
  const held: Array<() => void> = [];
  const written: string[] = [];
  const out = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk.toString());
      held.push(cb);
    },
  });
  return { out, written, release: () => held.splice(0).forEach((cb) => cb()) };
}

describe('OutputGate', () => {
  it('drops lines while the reader is behind, until it has caught up entirely, then reports each worker once', async () => {
    const { out, written, release } = stalled();
    const markers: Array<[string, number]> = [];
    const gate = new OutputGate(out, (w, n) => markers.push([w, n]), 100);
    const offer = (worker: string, line: string) => {
      if (gate.admit(worker)) out.write(line);
    };
    for (let i = 0; i < 20; i++) offer('api', `line ${i} ........\n`);
    // Past 100 queued bytes nothing more is written: seven lines of 16 bytes make 112.
    expect(written.length).toBe(1);
    expect(out.writableLength).toBe(112);
    offer('web', 'x\n');
    expect(gate.pending()).toEqual(new Map([['api', 13], ['web', 1]]));
    expect(markers).toEqual([]);

    // Part of the queue drained is not enough: it waits for all of it.
    release();
    await new Promise((r) => setImmediate(r));
    release();
    await new Promise((r) => setImmediate(r));
    expect(out.writableLength).toBeGreaterThan(0);
    expect(markers).toEqual([]);
    expect(gate.admit('api')).toBe(false);
    for (let i = 0; i < 10; i++) release();
    await new Promise((r) => setImmediate(r));
    expect(markers).toEqual([['api', 14], ['web', 1]]);
    expect(gate.pending().size).toBe(0);
    expect(gate.admit('api')).toBe(true);
  });

  it('says how many lines and where the newest are', () => {
    expect(droppedSentence('api', 12345)).toBe('12,345 lines of output not shown: the reader of this output fell behind (devsup logs api has the newest)');
    expect(droppedSentence('api', 1)).toMatch(/^1 line of output/);
  });
});
