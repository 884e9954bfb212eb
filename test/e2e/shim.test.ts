import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/compile.js';
import { tempDir } from '../helpers/tmp.js';

const SHIM = join(REPO, 'bin/devsup.js');
/** What a child sees of the two variables, `unset` for one not in its environment. */
const SHOW = 'echo "CA=[${NODE_EXTRA_CA_CERTS-unset}] MOVED=${DEVSUP_SHIM_CA-unset}"';

/** Runs the shim as a shell runs it (through its #! line) with `NODE_EXTRA_CA_CERTS` as given. */
function runShim(extraCa: string | undefined, shell?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', NODE_OPTIONS: '' };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.DEVSUP_SHIM_CA;
  if (extraCa !== undefined) env.NODE_EXTRA_CA_CERTS = extraCa;
  return new Promise((resolve) => {
    const [file, args] = shell ? [shell, [SHIM]] : [SHIM, []];
    execFile(file, [...args, 'run', '--on-exit', 'quit', '--', 'sh', '-c', SHOW], { cwd: tempDir(), env, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: typeof err?.code === 'number' ? err.code : err ? -1 : 0, stdout, stderr });
    });
  });
}

describe('bin/devsup.js and NODE_EXTRA_CA_CERTS', () => {
  it('keeps its own node from loading the certificates, and hands the variable to the child unchanged', async () => {
    // A file that does not exist: a node that tries to load it says so on stderr.
    const missing = join(tempDir(), 'no such dir', 'corporate-ca.pem');
    const r = await runShim(missing);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/extra certs/i);
    expect(r.stdout).toContain(`CA=[${missing}] MOVED=unset`);
  }, 30_000);

  it('leaves the child without the variable when there was none', async () => {
    const r = await runShim(undefined);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('CA=[unset] MOVED=unset');
  }, 30_000);

  it('hands an empty value on as empty, and a value with spaces, quotes and dollars as it was', async () => {
    expect((await runShim('')).stdout).toContain('CA=[] MOVED=unset');
    const odd = `/tmp/a "b" $HOME \\x 'c'`;
    expect((await runShim(odd)).stdout).toContain(`CA=[${odd}] MOVED=unset`);
  }, 30_000);

  it('runs when a POSIX shell reads it, as the #! line has one do', async () => {
    const r = await runShim('/etc/hosts', 'sh');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('CA=[/etc/hosts] MOVED=unset');
  }, 30_000);
});
