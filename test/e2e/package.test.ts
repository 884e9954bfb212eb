import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' } });

let tarball: string;
let packed: { path: string }[];

beforeAll(() => {
  const out = tempDir('devsup-pack-');
  // The package is packed from the build `npm test` makes first; here packing must not build again.
  const [info] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', out], repo)) as [{ filename: string; files: { path: string }[] }];
  tarball = join(out, info.filename);
  packed = info.files;
}, 120_000);

describe('the published package', () => {
  it('holds what the installed command runs, once, with the licence and no build step', () => {
    const paths = packed.map((f) => f.path);
    expect(paths).toContain('LICENSE');
    expect(paths).toContain('bin/devsup.js');
    expect(paths).toContain('dist/bundle/main.js');
    expect(paths).toContain('schema/devsup.schema.json');
    // One copy of the code (the bundle), and no source maps whose sources are not shipped.
    expect(paths.filter((p) => p.startsWith('dist/') && !p.startsWith('dist/bundle/'))).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.map'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { license: string; scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.scripts.prepare).toBeUndefined();
    // A tarball made by hand is built from the sources it ships with, never from an older dist/.
    expect(pkg.scripts.prepack).toBe('npm run build');
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(repo, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the devsup authors\n/);
  });

  it('installs into a fresh project, where npx devsup answers --version and runs a command', { timeout: 240_000 }, () => {
    const project = tempDir('devsup-consumer-');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    const install = npm(['install', '--no-save', '--prefer-offline', tarball], project);
    expect(install).not.toMatch(/npm warn.*prepare/i);
    const version = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    expect(execFileSync('npx', ['--no-install', 'devsup', '--version'], { cwd: project, encoding: 'utf8' }).trim()).toBe(version.version);
    // Through the installed bin and its shebang, as a user runs it, with an env file node must not take for its own.
    writeFileSync(join(project, '.env'), 'GREETING=hello from the packed devsup\n');
    const run = spawnSync('npx', ['--no-install', 'devsup', 'run', '--env-file', '.env', '--on-exit', 'quit', '--', 'node', '-e', 'console.log(process.env.GREETING)'], {
      cwd: project,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.stderr).toMatch(/\[devsup\] .*started pid \d+/);
    expect(run.stdout).toContain('hello from the packed devsup');
    expect(run.status).toBe(0);
  });
});
