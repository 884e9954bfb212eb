import { describe, expect, it } from 'vitest';
import {
  formatAge,
  formatCpu,
  formatDuration,
  formatMem,
  restartBanner,
  stateWord,
  taskMarks,
  durationSparkline,
  uptime,
  verdictWord,
} from '../../src/views/dashboard/format.js';
import { workerView } from './views.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe('state words', () => {
  it('says how a service runs', () => {
    expect(stateWord(workerView({ state: 'starting' })).text).toBe('starting');
    expect(stateWord(workerView({ state: 'starting', restarts: 2 })).text).toBe('restarting');
    expect(stateWord(workerView({ state: 'running' }))).toEqual({ text: 'running', tone: 'busy' });
    expect(stateWord(workerView({ state: 'running', ready: true }))).toEqual({ text: 'ready', tone: 'ok' });
    expect(stateWord(workerView({ state: 'stopping' })).text).toBe('stopping');
    expect(stateWord(workerView({ state: 'stopping' }), { restarting: true }).text).toBe('restarting');
    expect(stateWord(workerView({ state: 'idle', pid: null }))).toEqual({ text: 'stopped', tone: 'dim' });
  });

  it('gives a crash its exit code or signal', () => {
    expect(stateWord(workerView({ state: 'exited', lastExit: { code: 3, signal: null } }))).toEqual({ text: 'crashed (exit 3)', tone: 'bad' });
    expect(stateWord(workerView({ state: 'exited', lastExit: { code: null, signal: 'SIGSEGV' } })).text).toBe('crashed (SIGSEGV)');
    expect(stateWord(workerView({ state: 'exited', lastExit: { code: 0, signal: null } })).text).toBe('exited (0)');
    expect(stateWord(workerView({ state: 'backoff', lastExit: { code: 1, signal: null } })).text).toBe('crashed (exit 1), retrying');
    expect(stateWord(workerView({ state: 'start-failed' })).tone).toBe('bad');
  });

  it('gives a finished task its result and duration', () => {
    const task = (result: 'passed' | 'failed' | 'cancelled', durationMs: number) =>
      stateWord(workerView({ kind: 'task', state: 'exited', lastTask: { result, durationMs, code: result === 'failed' ? 1 : 0, generation: 2, codeId: 'c0ffee' } }));
    expect(task('passed', 1234)).toEqual({ text: 'passed 1.2s', tone: 'ok' });
    expect(task('failed', 340)).toEqual({ text: 'failed 340ms', tone: 'bad' });
    expect(task('cancelled', 65_000)).toEqual({ text: 'cancelled 1m05s', tone: 'warn' });
    // While it runs again, the state is the run, not the previous result.
    expect(stateWord(workerView({ kind: 'task', state: 'running', lastTask: { result: 'passed', durationMs: 1, code: 0, generation: 1, codeId: 'c0ffee' } })).text).toBe('running');
  });
});

describe('fresh or STALE', () => {
  it('counts the changed files and how long the code has been stale', () => {
    expect(verdictWord(workerView({ verdict: 'fresh' }), NOW)).toEqual({ text: 'fresh', tone: 'ok' });
    const stale = workerView({ verdict: 'stale', staleFiles: ['a.js', 'b.js', 'c.js'], staleSince: ago(12_000) });
    expect(verdictWord(stale, NOW)).toEqual({ text: 'STALE 3 files 12s', tone: 'warn' });
    expect(verdictWord(workerView({ verdict: 'stale', staleFiles: ['a.js'], staleSince: ago(3_725_000) }), NOW).text).toBe('STALE 1 file 1h02m');
    expect(verdictWord(workerView({ verdict: 'none', pid: null }), NOW).text).toBe('');
  });
});

describe('small formats', () => {
  it('formats ages, durations, memory and CPU compactly', () => {
    expect([0, 45_000, 184_000, 7_500_000, 2 * 86_400_000 + 3_600_000].map(formatAge)).toEqual(['0s', '45s', '3m04s', '2h05m', '2d01h']);
    expect([5, 999, 1000, 59_999, 7_500_000].map(formatDuration)).toEqual(['5ms', '999ms', '1.0s', '1m00s', '2h05m']);
    expect([512, 1536, 48 * 1024 * 1024, 1.5 * 1024 ** 3, null].map(formatMem)).toEqual(['512B', '1.5K', '48M', '1.5G', '-']);
    expect([0.25, 12.4, 180, null].map(formatCpu)).toEqual(['0.3%', '12%', '180%', '-']);
  });

  it('shows uptime only for a running process', () => {
    expect(uptime(workerView({ startedAt: ago(65_000) }), NOW)).toBe('1m05s');
    expect(uptime(workerView({ pid: null }), NOW)).toBe('-');
  });

  it('turns task history into marks, newest last', () => {
    const h = (['passed', 'failed', 'cancelled', 'passed'] as const).map((result) => ({ result, durationMs: 1 }));
    expect(taskMarks(h, 10)).toBe('✔✘⊘✔');
    expect(taskMarks(h, 2)).toBe('⊘✔');
    expect(taskMarks(h, 0)).toBe('');
  });

  it('explains a restart in its banner', () => {
    const banner = restartBanner({
      type: 'worker-started',
      worker: 'api',
      generation: 4,
      pid: 99,
      codeId: 'x',
      startedAt: ago(0),
      spawnMs: 5,
      restart: { reason: 'change', changes: { added: [], modified: ['src/a.ts', 'src/b.ts'], removed: [] }, cleared: { count: 3, bytes: 12_288 }, stopMs: 85 },
    });
    expect(banner).toBe('── ↻ generation 4 · 2 files changed: src/a.ts, src/b.ts · cleared 3 caches (12 KB) · old tree gone in 85ms · pid 99 ──');
  });
});

describe('durationSparkline', () => {
  it('scales finished runs between the fastest and the slowest, leaving out cancelled runs', () => {
    const h = [
      { result: 'passed' as const, durationMs: 100 },
      { result: 'cancelled' as const, durationMs: 5 },
      { result: 'failed' as const, durationMs: 800 },
      { result: 'passed' as const, durationMs: 450 },
    ];
    expect(durationSparkline(h, 10)).toBe('▁█▅');
    expect(durationSparkline(h, 2)).toBe('█▁');
    expect(durationSparkline([{ result: 'passed', durationMs: 7 }, { result: 'passed', durationMs: 7 }], 10)).toBe('▁▁');
    expect(durationSparkline([], 10)).toBe('');
  });
});
