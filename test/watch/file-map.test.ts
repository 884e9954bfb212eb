import { describe, expect, it } from 'vitest';
import { FileMap } from '../../src/watch/file-map.js';
import type { FileState } from '../../src/watch/file-state.js';

function state(n: number): FileState {
  return `${n} ${n} h${n}`;
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

function sorted(m: ReadonlyMap<string, FileState>): [string, FileState][] {
  return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('FileMap', () => {
  it('agrees with a plain map after every step of a long edit history, and never changes one it was built from', () => {
    const rnd = random(7);
    const model = new Map<string, FileState>();
    for (let i = 0; i < 2000; i++) model.set(`/t/${i}`, state(i));
    let files: ReadonlyMap<string, FileState> = new Map(model);
    const history: [ReadonlyMap<string, FileState>, [string, FileState][]][] = [];
    let compactions = 0;
    for (let step = 0; step < 400; step++) {
      const changes = new Map<string, FileState | undefined>();
      // Now and then a change bigger than the changes kept aside (a checkout of another branch).
      const n = step % 100 === 50 ? 5000 : 1 + Math.floor(rnd() * 40);
      for (let k = 0; k < n; k++) {
        const p = `/t/${Math.floor(rnd() * 8000)}`;
        const r = rnd();
        // Removals, new states, new paths, and a state put back as it was in the first map.
        const st = r < 0.3 ? undefined : r < 0.4 && /\d+$/.test(p) ? state(Number(p.slice(3))) : state(1_000_000 + step * 100 + k);
        changes.set(p, st);
      }
      const before = files;
      files = FileMap.with(files, changes);
      for (const [p, st] of changes) {
        if (st) model.set(p, st);
        else model.delete(p);
      }
      if (!(files instanceof FileMap)) compactions++;
      expect(files.size).toBe(model.size);
      if (step % 10 === 0 || n > 40) expect(sorted(files)).toEqual(sorted(model));
      for (const p of changes.keys()) {
        expect(files.get(p)).toBe(model.get(p));
        expect(files.has(p)).toBe(model.has(p));
      }
      if (step % 25 === 0) history.push([before, sorted(before)]);
    }
    // The big changes were folded into a new shared map.
    expect(compactions).toBeGreaterThan(0);
    for (const [m, entries] of history) expect(sorted(m)).toEqual(entries);
  });

  it('returns the same map when nothing changed, and keys, values and forEach agree with entries', () => {
    const base = new Map([
      ['/a', state(1)],
      ['/b', state(2)],
    ]);
    expect(FileMap.with(base, new Map())).toBe(base);
    const m = FileMap.with(base, new Map([['/a', undefined], ['/c', state(3)]]));
    expect([...m.keys()].sort()).toEqual(['/b', '/c']);
    expect([...m.values()].sort()).toEqual([state(2), state(3)]);
    const seen: string[] = [];
    m.forEach((_st, p, map) => {
      expect(map).toBe(m);
      seen.push(p);
    });
    expect(seen.sort()).toEqual(['/b', '/c']);
    expect(m.get('/a')).toBeUndefined();
    expect(m.has('/a')).toBe(false);
    // Removing a path the map does not have changes nothing.
    expect(FileMap.with(m, new Map([['/zzz', undefined]])).size).toBe(2);
  });
});
