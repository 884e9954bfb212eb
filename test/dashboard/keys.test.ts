import { describe, expect, it } from 'vitest';
import { KeyHandler, type KeyActions, type KeyInfo } from '../../src/views/dashboard/keys.js';

function recorder(): { calls: string[]; keys: KeyHandler; press: (ch: string | undefined, key?: KeyInfo) => void } {
  const calls: string[] = [];
  const act = new Proxy({} as KeyActions, {
    get: (_t, prop: string) => (...args: unknown[]) => calls.push(`${prop}(${args.map((a) => JSON.stringify(a)).join(',')})`),
  });
  const keys = new KeyHandler(act);
  const press = (ch: string | undefined, key: KeyInfo = { name: ch }) => keys.handle(ch, key);
  return { calls, keys, press };
}

describe('KeyHandler', () => {
  it('selects in the list and scrolls in the log', () => {
    const { calls, press } = recorder();
    press(undefined, { name: 'down' });
    press('k');
    press(undefined, { name: 'enter' });
    press(undefined, { name: 'return' });
    press('j');
    press(undefined, { name: 'escape' });
    press(undefined, { name: 'tab' });
    expect(calls).toEqual(['select(1)', 'select(-1)', 'focus("log")', 'scroll("down")', 'clearSearch()', 'focus("list")', 'focus("log")']);
  });

  it('maps the action keys in either panel', () => {
    const { calls, press } = recorder();
    for (const ch of ['r', 'a', 's', 'c', 'G', 'g']) press(ch, { name: ch.toLowerCase(), shift: ch === 'G' });
    press(undefined, { name: 'pageup' });
    press(undefined, { name: 'end' });
    expect(calls).toEqual(['restart()', 'restartAll()', 'toggleStop()', 'clearCaches()', 'scroll("end")', 'scroll("top")', 'scroll("pageUp")', 'scroll("end")']);
  });

  it('edits a search prompt, submits it and moves to the log', () => {
    const { calls, keys, press } = recorder();
    press('/');
    for (const ch of 'neex') press(ch);
    press(undefined, { name: 'backspace' });
    press('d');
    // Action keys are text while the prompt is open.
    press('q');
    press(undefined, { name: 'backspace' });
    press(undefined, { name: 'enter' });
    press('n');
    expect(calls).toEqual([
      'prompt("")', 'prompt("n")', 'prompt("ne")', 'prompt("nee")', 'prompt("neex")', 'prompt("nee")', 'prompt("need")', 'prompt("needq")', 'prompt("need")',
      'prompt(null)', 'focus("log")', 'search("need")', 'searchNext("older")',
    ]);
    expect(keys.panel).toBe('log');
  });

  it('cancels the prompt with Esc without searching', () => {
    const { calls, press } = recorder();
    press('/');
    press('x');
    press(undefined, { name: 'escape' });
    expect(calls).toEqual(['prompt("")', 'prompt("x")', 'prompt(null)']);
  });

  it('lets any key close the help, and Ctrl-C quit from anywhere', () => {
    const { calls, press } = recorder();
    press('?');
    press('r');
    press('/');
    press(undefined, { name: 'c', ctrl: true, full: 'C-c' });
    expect(calls).toEqual(['help(true)', 'help(false)', 'prompt("")', 'quit()']);
  });
});
