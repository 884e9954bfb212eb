import { describe, expect, it } from 'vitest';
import type { ProcInfo } from '../../src/process/table.js';
import { classify, toolName } from '../../src/stale/roles.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

const row = (cmdline: string[], cwd = '/p/app', pid = 10): ProcInfo => ({ pid, ppid: 1, pgid: pid, uid: 1000, state: 'S', start: '1', startMs: 1, cmdline, cwd });
const none = { devsupPids: new Set<number>() };
const kind = (cmdline: string[], cwd?: string) => {
  const k = classify(row(cmdline, cwd), none);
  return [k.role, k.label, k.language ?? null, k.entries];
};

describe('classify', () => {
  it.each([
    [['node', '/x/devsup/bin/devsup.js', 'run', '--', 'node', 't.js'], ['supervisor', 'devsup run', null, []]],
    [['node', '--max-semi-space-size=1', '/opt/lib/node_modules/devsup/bin/devsup.js', 'up'], ['supervisor', 'devsup up', null, []]],
    [['node', '/x/devsup/bin/devsup.js', 'status'], ['other', 'devsup status', null, []]],
    [['node', '/p/app/node_modules/.bin/nodemon', 'server.js'], ['supervisor', 'nodemon', null, []]],
    [['node', '/p/app/node_modules/nodemon/bin/nodemon.js'], ['supervisor', 'nodemon', null, []]],
    [['PM2 v5.3.0: God Daemon (/home/u/.pm2)'], ['supervisor', 'pm2', null, []]],
    [['node', '--watch', 'server.js'], ['supervisor', 'node --watch', null, []]],
    [['node', '/p/app/node_modules/tsx/dist/cli.mjs', 'watch', 'src/a.ts'], ['supervisor', 'tsx watch', null, []]],
    [['npm run dev', '', '', ''], ['wrapper', 'npm', null, []]],
    [['node', '/usr/lib/node_modules/npm/bin/npm-cli.js', 'run', 'dev'], ['wrapper', 'npm', null, []]],
    [['node', '/usr/lib/node_modules/npm/bin/npx-cli.js', 'vitest'], ['wrapper', 'npm', null, []]],
    [['/usr/bin/timeout', '60', 'node', 'x.js'], ['wrapper', 'timeout', null, []]],
    [['sh', '-c', 'node server.js; echo done'], ['wrapper', 'sh -c', null, []]],
    [['/bin/bash', '-ec', 'make'], ['wrapper', 'bash -c', null, []]],
    [['bash', '/home/u/.pyenv/shims/python3', 'app.py'], ['wrapper', 'pyenv shim', null, []]],
    [['/home/u/.asdf/shims/node', 'x.js'], ['wrapper', 'asdf shim', null, []]],
    [['python3', '/usr/bin/poetry', 'run', 'python', 'app.py'], ['wrapper', 'poetry', null, []]],
    [['python3', '-m', 'uvicorn', 'app:app', '--reload'], ['supervisor', 'uvicorn --reload', null, []]],
    [['bash', 'run.sh'], ['runner', 'bash', 'shell', ['/p/app/run.sh']]],
    [['node', 'server.js'], ['runner', 'node', 'node', ['/p/app/server.js']]],
    [['node', '-r', './hook.cjs', 'src/main.js', '--port', '3'], ['runner', 'node', 'node', ['/p/app/src/main.js']]],
    [['node', '-e', 'setInterval(() => {}, 1000)'], ['runner', 'node', 'node', []]],
    [['node', '/p/app/node_modules/.bin/tsx', 'src/server.ts'], ['runner', 'tsx', 'node', ['/p/app/node_modules/.bin/tsx', '/p/app/src/server.ts']]],
    [['/usr/bin/python3.12', '-u', 'migrate.py'], ['runner', 'python', 'python', ['/p/app/migrate.py']]],
    [['python3', '-c', 'import time'], ['runner', 'python', 'python', []]],
    [['/usr/bin/python3', '/usr/bin/pytest', '-x', 'tests/test_a.py'], ['runner', 'pytest', 'python', ['/usr/bin/pytest', '/p/app/tests/test_a.py']]],
    [['ruby', 'app.rb'], ['runner', 'ruby', 'ruby', ['/p/app/app.rb']]],
    [['./bin/server', '--port', '80'], ['runner', 'server', 'program', ['/p/app/bin/server']]],
    [['sleep', '100'], ['other', 'sleep', null, []]],
    [['node', '/p/app/node_modules/.bin/vite'], ['supervisor', 'vite (reloads itself)', null, []]],
    [['node', '/p/app/node_modules/vite/bin/vite.js', 'build'], ['runner', 'vite', 'node', ['/p/app/node_modules/vite/bin/vite.js']]],
    [['node', '/p/app/node_modules/.bin/vitest'], ['supervisor', 'vitest (reloads itself)', null, []]],
    [['node', '/p/app/node_modules/.bin/vitest', 'run'], ['runner', 'vitest', 'node', ['/p/app/node_modules/.bin/vitest']]],
    [['node', '/p/app/node_modules/next/dist/bin/next', 'dev'], ['supervisor', 'next (reloads itself)', null, []]],
    [['node', '/p/app/node_modules/typescript/bin/tsc', '-w'], ['supervisor', 'typescript (reloads itself)', null, []]],
    [['node', '/p/app/node_modules/jest/bin/jest.js'], ['runner', 'jest', 'node', ['/p/app/node_modules/jest/bin/jest.js']]],
  ])('%j', (cmdline, expected) => {
    expect(kind(cmdline)).toEqual(expected);
  });

  it('takes a python -m module from the cwd as its entry, as a file or a package main', () => {
    const dir = tempDir('devsup-roles-');
    writeTree(dir, { 'tool.py': '', 'pkg/__main__.py': '' });
    expect(kind(['python3', '-m', 'tool'], dir)).toEqual(['runner', 'tool', 'python', [`${dir}/tool.py`]]);
    expect(kind(['python3', '-um', 'pkg'], dir)).toEqual(['runner', 'pkg', 'python', [`${dir}/pkg/__main__.py`]]);
    expect(kind(['python3', '-m', 'pytest'], dir)).toEqual(['runner', 'pytest', 'python', []]);
  });

  it('judges an executable by its own file only when it is the project\'s', () => {
    const ctx = { devsupPids: new Set<number>(), inProject: (p: string) => p.startsWith('/p/app/') };
    expect(classify(row(['./bin/server']), ctx)).toMatchObject({ role: 'runner', language: 'program', entries: ['/p/app/bin/server'] });
    expect(classify(row(['/usr/lib/postgresql/16/bin/postgres', '-D', 'data']), ctx)).toMatchObject({ role: 'other', label: 'postgres' });
  });

  it('calls any process a devsup supervisor when a lock file names its pid', () => {
    expect(classify(row(['node', '/somewhere/cli.js', 'run', 'x'], '/p', 77), { devsupPids: new Set([77]) })).toMatchObject({ role: 'supervisor', label: 'devsup run' });
  });

  it('names tools by their package', () => {
    expect(toolName('/p/node_modules/.bin/vite')).toBe('vite');
    expect(toolName('/p/node_modules/@scope/cli/bin/x.js')).toBe('@scope/cli');
    expect(toolName('/usr/bin/npm-cli.js')).toBe('npm');
  });
});
