import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { completionScript } from '../../src/cli/completion.js';
import { buildProgram } from '../../src/cli/main.js';

const has = (shell: string): boolean => spawnSync(shell, ['-c', 'true']).status === 0;

/** What bash completes for the words typed so far (the last one may be partial). */
function bashComplete(words: string[]): string[] {
  const script = completionScript(buildProgram(), 'bash');
  const quoted = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _devsup_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    cwd: new URL('../fixtures/', import.meta.url),
    encoding: 'utf8',
  });
  return out.split('\n').filter((l) => l !== '');
}

describe('--help examples', () => {
  it('every command ends its help with two or three examples of itself', () => {
    const program = buildProgram();
    const commands = program.commands.filter((c) => c.name() !== 'help');
    expect(commands.length).toBeGreaterThan(15);
    for (const cmd of commands) {
      let help = '';
      cmd.configureOutput({ writeOut: (s) => (help += s) });
      cmd.outputHelp();
      const tail = help.trimEnd().split('\n');
      const start = tail.lastIndexOf('Examples:');
      expect(start, `${cmd.name()} has examples`).toBeGreaterThan(0);
      const examples = tail.slice(start + 1);
      expect(examples.length, cmd.name()).toBeGreaterThanOrEqual(2);
      expect(examples.length, cmd.name()).toBeLessThanOrEqual(3);
      for (const e of examples) expect(e, cmd.name()).toMatch(new RegExp(`^  \\$ devsup ${cmd.name()}( |$)`));
    }
  });
});

describe('devsup completion', () => {
  it('bash completes commands, their options and files after a valued option', () => {
    expect(bashComplete(['devsup', 'wa'])).toEqual(['wait-fresh']);
    expect(bashComplete(['devsup', 'run', '--en'])).toEqual(['--env-file']);
    expect(bashComplete(['devsup', 'init', '-'])).toEqual(['-c', '--config', '-f', '--force', '-h', '--help']);
    // A hidden option stays hidden.
    expect(bashComplete(['devsup', 'run', '--back'])).toEqual([]);
    expect(bashComplete(['devsup', 'run', '--env-file', 'stub'])).toEqual(['stubborn.mjs']);
  });

  it.runIf(has('fish'))('fish completes the same from its script', () => {
    const script = completionScript(buildProgram(), 'fish');
    const out = execFileSync('fish', ['--no-config', '-c', `${script}\ncomplete -C 'devsup run --env'`], { encoding: 'utf8' });
    expect(out.split('\n')[0]).toMatch(/^--env-file\t/);
    const cmds = execFileSync('fish', ['--no-config', '-c', `${script}\ncomplete -C 'devsup in'`], { encoding: 'utf8' });
    expect(cmds).toMatch(/^init\twrite a commented starter/);
  });

  it.runIf(has('zsh'))('zsh reads its script without a syntax error', () => {
    const script = completionScript(buildProgram(), 'zsh');
    const r = spawnSync('zsh', ['-n', '-c', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(script).toContain("'--env-file[read variables from this .env file before every start; its edit restarts (repeatable; later files win)]:value:_files'");
  });

  it('the command prints the script and refuses an unknown shell', () => {
    const bin = new URL('../../bin/devsup.js', import.meta.url).pathname;
    expect(execFileSync(process.execPath, [bin, 'completion', 'bash'], { encoding: 'utf8' })).toContain('complete -o filenames -F _devsup_complete devsup');
    const bad = spawnSync(process.execPath, [bin, 'completion', 'tcsh'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("'tcsh' is invalid for argument 'shell'. Allowed choices are bash, zsh, fish.");
  });
});
