import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pty from 'node-pty';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers/devsup.js';
import { trackPid } from '../helpers/procs.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { SERVER_JS, alive, gone, killAll, pastStart, startReady, type Started } from './project.js';

/** `devsup ps --kill` on a real terminal, answering the question with `answer`. */
async function killOnTerminal(root: string, answer: string): Promise<{ code: number; output: string }> {
  const term = pty.spawn(process.execPath, [BIN, 'ps', '--kill'], {
    cwd: root,
    cols: 200,
    rows: 40,
    env: { ...process.env, NO_COLOR: '1' } as Record<string, string>,
  });
  trackPid(term.pid);
  let output = '';
  term.onData((d) => (output += d));
  const exit = new Promise<number>((r) => term.onExit((e) => r(e.exitCode)));
  await waitFor(() => output.includes('kill 1 stale process tree? [y/N] '), `the question\n${output}`, 15_000);
  term.write(`${answer}\r`);
  const code = await Promise.race([
    exit,
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`devsup did not exit\n${output}`)), 15_000)),
  ]);
  return { code, output };
}

describe('devsup ps --kill on a terminal', () => {
  it('asks first: no keeps the stale tree (exit 1), yes stops it (exit 0)', async () => {
    const root = tempDir('devsup-ps-tty-');
    writeTree(root, { 'server.js': SERVER_JS, 'lib.js': '1;\n' });
    let stale: Started | undefined;
    try {
      stale = await startReady([process.execPath, 'server.js'], root);
      await pastStart(stale);
      writeFileSync(join(root, 'lib.js'), '2;\n');

      const no = await killOnTerminal(root, '');
      expect(no.code, no.output).toBe(1);
      expect(no.output).toContain('nothing killed');
      expect(alive(stale.id)).toBe(true);
      expect(alive(stale.child)).toBe(true);

      const yes = await killOnTerminal(root, 'y');
      expect(yes.code, yes.output).toBe(0);
      expect(yes.output).toContain(`stopped pid ${stale.id.pid} (`);
      await gone(stale.id, 'the stale process');
      await gone(stale.child, 'its child');
    } finally {
      await killAll(stale);
    }
  });
});
