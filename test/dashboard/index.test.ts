import { describe, expect, it } from 'vitest';
import type { SupervisorApi } from '../../src/supervisor/api.js';
import { startDashboard } from '../../src/views/dashboard/index.js';
import { pickTerminal } from '../../src/views/dashboard/terminal.js';

describe('startDashboard', () => {
  it('rejects a bad scrollback before touching the terminal', async () => {
    const api = new Proxy({} as SupervisorApi, {
      get: () => {
        throw new Error('the api must not be used');
      },
    });
    await expect(startDashboard(api, { scrollback: 0 })).rejects.toThrow(/scrollback must be a positive integer/);
    await expect(startDashboard(api, { scrollback: 2.5 })).rejects.toThrow(RangeError);
  });

  it('asks blessed for xterm-256color inside tmux and screen, whose entries it cannot read', () => {
    expect(pickTerminal('tmux-256color')).toBe('xterm-256color');
    expect(pickTerminal('screen-256color')).toBe('xterm-256color');
    expect(pickTerminal('screen')).toBe('xterm-256color');
    expect(pickTerminal('xterm-256color')).toBeUndefined();
    expect(pickTerminal(undefined)).toBe('xterm');
  });
});
