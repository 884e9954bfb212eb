import { describe, expect, it } from 'vitest';
import { portInLine } from '../../src/supervisor/port-conflict.js';
import { describePortTaken } from '../../src/views/format.js';

describe('portInLine', () => {
  it.each([
    ['Error: listen EADDRINUSE: address already in use :::4310', 4310],
    ['Error: listen EADDRINUSE: address already in use 127.0.0.1:3000', 3000],
    ["ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', 8000): address already in use", 8000],
    ['Port 5000 is in use by another program.', 5000],
    ['OSError: [Errno 98] Address already in use', undefined],
  ])('%s', (line, port) => {
    expect(portInLine(line)).toBe(port);
  });
});

describe('describePortTaken', () => {
  it('says who holds the port, whether devsup left it, whether it is stale, and how to stop it', () => {
    const startedAt = new Date(Date.now() - 3000).toISOString();
    const lines = describePortTaken({
      type: 'port-taken',
      worker: 'api',
      generation: 2,
      port: 4310,
      holders: [
        { pid: 812, command: 'node server.js', startedAt, devsup: { generation: 3, codeId: '9f2c41d0ab' }, inProject: true, stale: true, stop: 'devsup ps --kill (or kill 812)' },
        { pid: 900, command: 'python3 -m http.server 4310', startedAt, inProject: false, stop: 'kill 900' },
      ],
      otherUsers: [0],
    });
    expect(lines[0]).toMatch(/^port 4310 is taken by pid 812, started \d\d:\d\d:\d\d \(\d\.\ds ago\), a leftover of devsup \(generation 3, code 9f2c41d0ab\), runs stale code; stop it with: devsup ps --kill \(or kill 812\) · node server\.js$/);
    expect(lines[1]).toMatch(/pid 900, .*, not a process of this project; stop it with: kill 900 · python3 -m http\.server 4310$/);
    expect(lines[2]).toBe('port 4310 is taken by a process of uid 0, which devsup cannot look at');
  });
});
