import { describe, expect, it } from 'vitest';
import { LoopDetector, ignoreFor, startupWrites } from '../../src/supervisor/loop-guard.js';

/** Feeds starts and changes: `[gen, msAfterStart, paths | null]`, null meaning no change that generation. */
function feed(d: LoopDetector, gens: Array<[number, string[] | null]>): string[] | undefined {
  let found: string[] | undefined;
  let t = 0;
  gens.forEach(([after, paths], i) => {
    t += 10_000;
    d.started(i + 1, t);
    if (paths) found = d.changed(paths, t + after) ?? found;
  });
  return found;
}

describe('LoopDetector', () => {
  it('finds the files that change right after every one of five starts', () => {
    const d = new LoopDetector(3000, 5);
    const gens: Array<[number, string[]]> = [
      [120, ['app.log', 'src/a.js']],
      [90, ['app.log']],
      [200, ['app.log', 'cache.json']],
      [150, ['app.log']],
    ];
    expect(feed(d, gens)).toBeUndefined();
    d.started(5, 100_000);
    expect(d.changed(['app.log'], 100_100)).toEqual(['app.log']);
  });

  it('does not fire for four, for late changes, for a quiet generation or for different files', () => {
    const log: [number, string[]] = [100, ['app.log']];
    expect(feed(new LoopDetector(3000, 5), [log, log, log, log])).toBeUndefined();
    // Someone saving a file every few seconds: the change comes long after the start.
    expect(feed(new LoopDetector(3000, 5), Array.from({ length: 8 }, (): [number, string[]] => [4000, ['app.py']]))).toBeUndefined();
    // A generation that wrote nothing breaks the streak.
    expect(feed(new LoopDetector(3000, 5), [log, log, log, [0, null], log, log, log])).toBeUndefined();
    // Each generation changed something else.
    const other = Array.from({ length: 8 }, (_, i): [number, string[]] => [100, [`f${i}.py`]]);
    expect(feed(new LoopDetector(3000, 5), other)).toBeUndefined();
  });

  it('never counts a change made after someone was told the generation is fresh', () => {
    const d = new LoopDetector(3000, 5);
    let t = 0;
    for (let gen = 1; gen <= 8; gen++) {
      t += 1000;
      d.started(gen, t);
      d.vouched();
      expect(d.changed(['version.py'], t + 300)).toBeUndefined();
    }
    // The child writing on its own again, unasked, is counted from scratch.
    for (let gen = 9; gen <= 12; gen++) {
      t += 1000;
      d.started(gen, t);
      expect(d.changed(['app.log'], t + 50)).toBeUndefined();
    }
    d.started(13, (t += 1000));
    expect(d.changed(['app.log'], t + 50)).toEqual(['app.log']);
  });

  it('counts one change per generation and starts over once it has fired', () => {
    const d = new LoopDetector(3000, 2);
    d.started(1, 0);
    expect(d.changed(['a.log'], 10)).toBeUndefined();
    // A second burst in the same generation is not a second generation.
    expect(d.changed(['a.log'], 20)).toBeUndefined();
    d.started(2, 1000);
    expect(d.changed(['a.log'], 1010)).toEqual(['a.log']);
    d.started(3, 2000);
    expect(d.changed(['a.log'], 2010)).toBeUndefined();
  });
});

describe('startupWrites', () => {
  it('keeps what a program writes as it runs, never code, settings or documents', () => {
    const c = {
      added: ['run.pid', 'logs/app.log', 'src/new.py'],
      modified: ['data.db', 'mod.py', 'app.js', 'settings.toml', 'README.md', '.env.local', 'cache/blob'],
      removed: ['old.sock', 'lib/gone.ts'],
    };
    expect(startupWrites(c).sort()).toEqual(['cache/blob', 'data.db', 'logs/app.log', 'old.sock', 'run.pid']);
  });

  it('lets edits of code right after every start, rewritten or appended to, never reach a loop', () => {
    const d = new LoopDetector(1000, 5);
    for (let gen = 1; gen <= 10; gen++) {
      d.started(gen, gen * 1000);
      expect(d.changed(startupWrites({ added: [], modified: ['mods/m01.py'], removed: [] }), gen * 1000 + 300)).toBeUndefined();
    }
  });
});

describe('ignoreFor', () => {
  it('names the file below its innermost root', () => {
    expect(ignoreFor('/p/app.log', ['/p'])).toBe('app.log');
    expect(ignoreFor('/p/srv/logs/out.log', ['/p', '/p/srv'])).toBe('logs/out.log');
  });
});
