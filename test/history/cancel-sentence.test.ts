import { describe, expect, it } from 'vitest';
import { parseRunLine } from '../../src/history/record.js';
import { cancelSentence } from '../../src/views/format.js';

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
