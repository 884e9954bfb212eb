// Generated projects. Every scenario gets its own directory, and each tool starts on the same
// initial content: the generator is re-run (cheap) or the few edited files restored (scale tree).
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const temps = new Set();
let base;

/**
 * Generated trees live on tmpfs when there is one: creating 200,000 files on this kind of virtual
 * disk takes minutes instead of seconds, and disk flushes would add noise to every latency.
 * Change events are the same inotify events either way.
 */
export function tempBase(override) {
  if (override) base = override;
  if (base) return base;
  base = tmpdir();
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8');
    if (/^\S+ \/dev\/shm tmpfs /m.test(mounts)) {
      accessSync('/dev/shm', constants.W_OK);
      base = '/dev/shm';
    }
  } catch {
    // no /dev/shm: the system temp directory it is
  }
  return base;
}

export function makeTemp(label) {
  const dir = mkdtempSync(join(tempBase(), `devsup-bench-${label}-`));
  temps.add(dir);
  return dir;
}

export function removeTemp(dir) {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  temps.delete(dir);
}

/** Called from exit handlers too, so it must be synchronous. */
export function removeAllTemps() {
  for (const dir of [...temps]) {
    try {
      removeTemp(dir);
    } catch {
      // best effort on the way out; the path is printed so a person can finish the job
      process.stderr.write(`bench: could not remove ${dir}\n`);
    }
  }
}

/** Room for a realistic-looking module without making generation or hashing the whole story. */
export const FILLER = `// ${'generated filler so the file has the size of a small real module '.repeat(14)}\n`;

/**
 * The supervised program. It prints READY with its pid, the time and a marker computed from the
 * modules it imported, so a READY line proves which content the new generation actually loaded.
 */
function appSource({ lib = false, grandchild = false, deep } = {}) {
  const lines = [`import { marker } from './mod.js';`];
  if (lib) lines.push(`import { lo, hi } from './lib/index.js';`);
  if (deep) lines.push(`import { v as deep } from './${deep}';`);
  let m = '${marker}';
  if (lib) m += ':${lo}-${hi}';
  if (deep) m += ':${deep}';
  lines.push(
    `const ready = (extra) => process.stdout.write(\`READY pid=\${process.pid} t=\${Date.now()} marker=${m}\${extra}\\n\`);`,
    `setInterval(() => {}, 2 ** 31 - 1);`,
  );
  if (grandchild) {
    lines.unshift(`import { spawn } from 'node:child_process';`);
    // READY waits until the grandchild has its SIGTERM handler, or a fast kill would hide the problem.
    lines.push(
      `const gc = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); process.stdout.write('up\\\\n'); setInterval(() => {}, 2 ** 31 - 1);"], { stdio: ['ignore', 'pipe', 'ignore'] });`,
      `gc.stdout.once('data', () => ready(\` gc=\${gc.pid}\`));`,
    );
  } else {
    lines.push(`ready('');`);
  }
  return `${lines.join('\n')}\n`;
}

export const modSource = (marker) => `export const marker = '${marker}';\n${FILLER}`;

const PKG = JSON.stringify({ name: 'bench-app', private: true, type: 'module' }, null, 2);

function writeCommon(dir, app) {
  writeFileSync(join(dir, 'package.json'), PKG);
  writeFileSync(join(dir, 'app.js'), app);
  writeFileSync(join(dir, 'mod.js'), modSource('m0'));
}

/** app.js + mod.js: latency, startup, half-written. */
export function basicProject(dir) {
  writeCommon(dir, appSource());
  return { dir, modFile: join(dir, 'mod.js') };
}

export const LIB_FILES = 300;
export const libName = (i) => `f${String(i).padStart(3, '0')}.js`;
export const libSource = (v) => `export const v = ${v};\n${FILLER}`;

/**
 * The app imports all 300 lib files, so node --watch (which only watches imported files) sees the
 * same burst as the tools that watch the directory, and the marker shows whether the last restart
 * loaded every file of the burst (lo-hi equal to the burst number).
 */
export function libProject(dir) {
  writeCommon(dir, appSource({ lib: true }));
  const lib = join(dir, 'lib');
  mkdirSync(lib, { recursive: true });
  const names = [];
  for (let i = 0; i < LIB_FILES; i++) {
    names.push(libName(i));
    writeFileSync(join(lib, libName(i)), libSource(0));
  }
  const imports = names.map((n, i) => `import { v as v${i} } from './${n}';`).join('\n');
  const all = names.map((_, i) => `v${i}`).join(', ');
  writeFileSync(join(lib, 'index.js'), `${imports}\nexport const lo = Math.min(${all});\nexport const hi = Math.max(${all});\n`);
  return { dir, modFile: join(dir, 'mod.js'), libFiles: names.map((n) => join(lib, n)) };
}

/** The child spawns a grandchild that ignores SIGTERM. */
export function orphanProject(dir) {
  writeCommon(dir, appSource({ grandchild: true }));
  return { dir, modFile: join(dir, 'mod.js') };
}

export const SCALE_FULL = { top: 40, mid: 100, files: 25, pkgs: 2000, pkgFiles: 50 };
export const SCALE_QUICK = { top: 10, mid: 40, files: 25, pkgs: 200, pkgFiles: 50 };

const dname = (p, i, w) => `${p}${String(i).padStart(w, '0')}`;

/**
 * A source tree of top*mid leaf directories with `files` modules each, plus a node_modules of
 * pkgs*pkgFiles files that every tool is told (or defaults) to ignore. The app imports one module
 * at the far end of the tree, which is the one edited.
 */
export function scaleProject(dir, shape) {
  const deepRel = `src/${dname('a', shape.top - 1, 2)}/${dname('b', shape.mid - 1, 3)}/${dname('f', shape.files - 1, 2)}.js`;
  for (let a = 0; a < shape.top; a++) {
    for (let b = 0; b < shape.mid; b++) {
      const d = join(dir, 'src', dname('a', a, 2), dname('b', b, 3));
      mkdirSync(d, { recursive: true });
      for (let f = 0; f < shape.files; f++) writeFileSync(join(d, `${dname('f', f, 2)}.js`), libSource(0));
    }
  }
  for (let p = 0; p < shape.pkgs; p++) {
    const d = join(dir, 'node_modules', dname('p', p, 4), 'lib');
    mkdirSync(d, { recursive: true });
    for (let f = 0; f < shape.pkgFiles; f++) writeFileSync(join(d, `${dname('m', f, 2)}.js`), libSource(0));
  }
  writeCommon(dir, appSource({ deep: deepRel }));
  return {
    dir,
    modFile: join(dir, 'mod.js'),
    deepFile: join(dir, deepRel),
    sourceFiles: shape.top * shape.mid * shape.files,
    sourceDirs: shape.top * shape.mid + shape.top + 1,
    nodeModulesFiles: shape.pkgs * shape.pkgFiles,
  };
}

/** Puts the few files a scale run edits back, so the next tool starts on the same tree. */
export function resetScale(p) {
  writeFileSync(p.modFile, modSource('m0'));
  writeFileSync(p.deepFile, libSource(0));
}

export function exists(p) {
  return existsSync(p);
}
