import { describe, expect, it } from 'vitest';
import { stripSgr, visibleWidth } from '../../src/views/dashboard/ansi.js';
import { StatusLine } from '../../src/views/dashboard/status.js';

const text = (line: string) => stripSgr(line).trimEnd();

describe('the key line at the bottom of the dashboard', () => {
  it('shows every key on a wide terminal', () => {
    const s = new StatusLine();
    expect(text(s.render(200, 'list'))).toBe('↑↓ select  ⏎ log  r restart  a all  s stop/start  c caches  / search  ? help  q quit');
  });

  for (const panel of ['list', 'log'] as const) {
    for (const width of [80, 60, 40, 24]) {
      it(`keeps "? help" and "q quit" on the ${panel} panel at ${width} columns, dropping keys that do not fit`, () => {
        const line = new StatusLine().render(width, panel);
        expect(visibleWidth(line)).toBe(width);
        expect(text(line)).toMatch(/\? help {2}q quit$/);
        // Only whole keys: nothing is cut in the middle.
        expect(text(line)).not.toMatch(/…/);
      });
    }
  }

  it('puts a message first and fits the keys after it', () => {
    const s = new StatusLine();
    s.say('restarting api');
    const line = text(s.render(80, 'list'));
    expect(line.startsWith('restarting api   ')).toBe(true);
    expect(line).toMatch(/q quit$/);
  });
});
