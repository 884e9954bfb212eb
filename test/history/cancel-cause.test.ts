import { describe, expect, it } from 'vitest';
import type { DevsupEvent } from '../../src/core/events.js';
import { CancelCauses } from '../../src/history/cancel-cause.js';
import { parseRunLine } from '../../src/history/record.js';
import { cancelSentence } from '../../src/views/format.js';

const stale = (worker: string, generation: number, files: string[]): DevsupEvent => ({ type: 'stale', worker, generation, files, restarting: true });
const stopping = (worker: string, generation: number, reason: string): DevsupEvent => ({ type: 'stopping', worker, generation, pid: 10, reason, signal: 'SIGTERM' });
const started = (worker: string, generation: number): DevsupEvent => ({
  type: 'worker-started',
  worker,
  generation,
  pid: 11,
  codeId: 'abc',
  startedAt: new Date().toISOString(),
  spawnMs: 1,
});

describe('CancelCauses', () => {
  it('keeps the files and the stop reason of the generation that was stopped', () => {
    const c = new CancelCauses();
    c.see(started('tests', 1));
    c.see(stale('tests', 1, ['tests/test_a.py']));
    c.see(stopping('tests', 1, 'change'));
    expect(c.of('tests', 1)).toEqual({ stop: 'change', files: ['tests/test_a.py'] });
    expect(cancelSentence(c.of('tests', 1))).toBe('tests/test_a.py changed while it ran');
  });

  it('forgets them when the next generation starts, and never lends them to another worker or generation', () => {
    const c = new CancelCauses();
    c.see(stale('tests', 1, ['a.py']));
    c.see(stopping('tests', 1, 'change'));
    c.see(stopping('lint', 4, 'restart requested'));
    expect(c.of('tests', 2)).toEqual({});
    expect(c.of('lint', 4)).toEqual({ stop: 'restart requested' });
    c.see(started('tests', 2));
    expect(c.of('tests', 1)).toEqual({});
    // A stale mark of an older generation arriving late does not stick to the new one.
    c.see(stale('tests', 1, ['late.py']));
    expect(c.of('tests', 2)).toEqual({});
    c.see(stale('tests', 2, ['b.py']));
    c.see(stopping('tests', 2, 'a dependency changed'));
    expect(c.of('tests', 2)).toEqual({ stop: 'a dependency changed', files: ['b.py'] });
    expect(cancelSentence(c.of('tests', 2))).toBe('a dependency changed');
  });
});

describe('cancelSentence', () => {
  it('says what stopped the run, and never a count of files', () => {
    expect(cancelSentence({ stop: 'change', files: ['a.py', 'b.py', 'c.py', 'd.py'] })).toBe('a.py, b.py, c.py (+1 more) changed while it ran');
    expect(cancelSentence({ stop: 'caches found', files: ['__pycache__/a.cpython-312.pyc'] })).toBe('stale caches appeared while it ran (__pycache__/a.cpython-312.pyc)');
    expect(cancelSentence({ stop: 'restart requested' })).toBe('restart requested');
    expect(cancelSentence({ stop: 'shutting down' })).toBe('devsup was shutting down');
    expect(cancelSentence({})).toBe('what it ran against got new code while it ran');
    expect(cancelSentence({ stop: 'change' })).toBe('files changed while it ran');
  });
});

describe('a recorded cause', () => {
  const rec = {
    v: 1,
    worker: 'tests',
    generation: 2,
    codeId: 'abc',
    changedFiles: [],
    startedAt: new Date().toISOString(),
    durationMs: 5,
    exitCode: null,
    signal: 'SIGTERM',
    result: 'cancelled',
  };

  it('reads back, and a damaged one makes the line unreadable rather than half read', () => {
    expect(parseRunLine(JSON.stringify({ ...rec, cancelledBy: { stop: 'change', files: ['a.py'] } }))?.cancelledBy).toEqual({ stop: 'change', files: ['a.py'] });
    expect(parseRunLine(JSON.stringify(rec))).not.toBeNull();
    expect(parseRunLine(JSON.stringify({ ...rec, cancelledBy: { files: 'a.py' } }))).toBeNull();
    expect(parseRunLine(JSON.stringify({ ...rec, cancelledBy: ['change'] }))).toBeNull();
  });
});
