import { describe, expect, it } from 'vitest';
import { stripSgr } from '../../src/views/dashboard/ansi.js';
import { LogStore, WorkerLog, logLabel, renderLog } from '../../src/views/dashboard/log-pane.js';
import { makeQuery } from '../../src/views/dashboard/search.js';

function logWith(n: number, capacity = 1000): WorkerLog {
  const log = new WorkerLog(capacity);
  for (let i = 0; i < n; i++) log.push(`line ${i}`);
  return log;
}

const texts = (log: WorkerLog, h: number) => renderLog(log, 40, h, null).map(stripSgr);

describe('WorkerLog', () => {
  it('follows the tail until scrolled up, and resumes when scrolled back down', () => {
    const log = logWith(100);
    expect(texts(log, 5)).toEqual(['line 95', 'line 96', 'line 97', 'line 98', 'line 99']);
    log.scroll(-4, 5);
    expect(log.follow).toBe(false);
    log.push('line 100');
    // A scrolled view stays where it was while lines arrive.
    expect(texts(log, 5)[0]).toBe('line 91');
    expect(log.newerThanView(5)).toBe(5);
    log.scroll(100, 5);
    expect(log.follow).toBe(true);
    expect(texts(log, 5).at(-1)).toBe('line 100');
  });

  it('clamps a scrolled view to what the ring still holds', () => {
    const log = logWith(10, 10);
    log.toStart();
    expect(texts(log, 3)[0]).toBe('line 0');
    for (let i = 10; i < 30; i++) log.push(`line ${i}`);
    expect(texts(log, 3)[0]).toBe('line 20');
  });

  it('does not stop following when there is nothing to scroll', () => {
    const log = logWith(3);
    log.scroll(-1, 10);
    expect(log.follow).toBe(true);
  });

  it('reveals a line a third of the way down', () => {
    const log = logWith(100);
    log.reveal(40, 9);
    expect(log.follow).toBe(false);
    expect(texts(log, 9)[3]).toBe('line 40');
  });

  it('puts a banner between generations of a backlog and of live output', () => {
    const store = new LogStore(100);
    const log = store.get('api');
    log.fill([
      { generation: 1, stream: 'stdout', text: 'one', t: 0 },
      { generation: 2, stream: 'stdout', text: 'two', t: 0 },
    ]);
    store.ingest({ type: 'worker-started', worker: 'api', generation: 3, pid: 7, codeId: 'c', startedAt: '', spawnMs: 1, restart: { reason: 'manual', stopMs: 40 } });
    store.ingest({ type: 'output', worker: 'api', generation: 3, stream: 'stdout', line: '\x1b[31mthree\x1b[39m' });
    const lines = renderLog(log, 80, 10, null);
    expect(lines.map(stripSgr)).toEqual(['one', '── ↻ generation 2 ──', 'two', '── ↻ generation 3 · restart requested · old tree gone in 40ms · pid 7 ──', 'three']);
    // Banners are grey; child colours are kept.
    expect(lines[3]).toMatch(/^\x1b\[90m/);
    expect(lines[4]).toContain('\x1b[31mthree');
  });

  it('notes an exit and a failed start where they happened', () => {
    const store = new LogStore(10);
    store.ingest({ type: 'exited', worker: 'api', generation: 1, code: 3, signal: null, durationMs: 1500 });
    store.ingest({ type: 'spawn-failed', worker: 'api', generation: 2, message: 'ENOENT: nodex' });
    expect(renderLog(store.get('api'), 80, 5, null).map(stripSgr)).toEqual(['── exited (exit 3) after 1.5s ──', '── could not start: ENOENT: nodex ──']);
  });

  it('no banner before the very first start', () => {
    const store = new LogStore(10);
    store.ingest({ type: 'worker-started', worker: 'web', generation: 1, pid: 7, codeId: 'c', startedAt: '', spawnMs: 1, restart: { reason: 'initial' } });
    expect(store.get('web').ring.length).toBe(0);
  });

  it('marks search matches and says so in the label', () => {
    const log = logWith(10);
    const search = { query: makeQuery('line 8'), current: 8 };
    const lines = renderLog(log, 40, 5, search);
    expect(lines[3]).toBe('\x1b[30;43mline 8\x1b[39;49m');
    log.scroll(-3, 5);
    expect(logLabel('api', log, 5, search)).toBe(' api · scrolled, 3 newer lines (G follows) · /line 8 ');
  });
});
