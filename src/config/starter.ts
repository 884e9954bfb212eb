import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One worker of a starter config, with the comment written above it. */
interface Starter {
  comment: string;
  fields: Record<string, unknown>;
}

/** Scripts that usually start the app, best first; `dev` often runs its own watcher, so it comes last. */
const SERVICE_SCRIPTS = ['start', 'serve', 'server', 'dev'];
const PY_ENTRY = ['app.py', 'main.py', 'server.py', 'run.py'];

/** What a first look at the project suggests: a service and a test task, from package.json or Python files. */
export function detectWorkers(dir: string): Starter[] {
  return [...nodeWorkers(dir), ...pythonWorkers(dir)];
}

function nodeWorkers(dir: string): Starter[] {
  let scripts: Record<string, unknown> = {};
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts?: Record<string, unknown> };
    scripts = pkg.scripts ?? {};
  } catch {
    return [];
  }
  const out: Starter[] = [];
  const service = SERVICE_SCRIPTS.find((s) => typeof scripts[s] === 'string');
  if (service) {
    out.push({
      comment: `From package.json: "${service}": ${JSON.stringify(scripts[service])}.${service === 'dev' ? ' If it runs a watcher of its own (nodemon, node --watch), point cmd at what it runs instead.' : ''}`,
      fields: { name: 'app', cmd: ['npm', 'run', '--silent', service] },
    });
  }
  if (typeof scripts.test === 'string' && !/no test specified/.test(scripts.test)) {
    out.push({
      comment: 'Runs the tests again on every change; a change during a run cancels it and starts over.',
      fields: { name: 'test', cmd: ['npm', 'test', '--silent'], kind: 'task' },
    });
  }
  return out;
}

function pythonWorkers(dir: string): Starter[] {
  const out: Starter[] = [];
  if (existsSync(join(dir, 'manage.py'))) {
    out.push({
      comment: "Django's own reloader is off: devsup restarts it, and knows whether it runs the code on disk.",
      fields: { name: 'web', cmd: ['python3', 'manage.py', 'runserver', '--noreload'], ext: ['py', 'html'] },
    });
  } else {
    const entry = PY_ENTRY.find((f) => existsSync(join(dir, f)));
    if (entry) out.push({ comment: `The Python entry point found: ${entry}.`, fields: { name: 'app', cmd: ['python3', entry], ext: ['py'] } });
  }
  if (hasPythonTests(dir)) {
    out.push({
      comment: 'pytest on every change; stale bytecode is never reused.',
      fields: { name: 'pytest', cmd: ['python3', '-m', 'pytest', '-x', '-q'], kind: 'task', ext: ['py'] },
    });
  }
  return out;
}

function hasPythonTests(dir: string): boolean {
  if (['pytest.ini', 'conftest.py'].some((f) => existsSync(join(dir, f)))) return true;
  const names = (d: string): string[] => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  };
  const isTest = (n: string) => /^test_.*\.py$|_test\.py$/.test(n);
  return names(dir).some(isTest) || ['tests', 'test'].some((t) => names(join(dir, t)).some(isTest));
}

/**
 * The text of a starter devsup.config.json: JSONC with a comment on every field, so it reads as
 * its own documentation. `schema` is the path of the JSON Schema relative to `dir`, when installed.
 */
export function starterConfig(dir: string): string {
  const found = detectWorkers(dir);
  const workers: Starter[] =
    found.length > 0
      ? found
      : [{ comment: 'Nothing recognisable was found (package.json scripts, app.py, manage.py): put your command here.', fields: { name: 'app', cmd: ['node', 'server.js'] } }];
  const schemaFile = join(dir, 'node_modules/devsup/schema/devsup.schema.json');
  const lines = ['// devsup config: `devsup up` runs every worker below and restarts each when its files change.', '// Comments and trailing commas are allowed. Every field is described in docs/config.md of devsup.', '{'];
  if (existsSync(schemaFile)) lines.push(`  "$schema": ${JSON.stringify(relative(dir, schemaFile))},`);
  lines.push(
    '  // Applies to every worker unless it sets its own value.',
    '  "defaults": {',
    '    // Paths to leave out, besides .git, node_modules, dist, build, __pycache__, .venv and .gitignore.',
    '    "ignore": ["*.log"],',
    '    // Quiet time before a burst of changes counts as one; time between SIGTERM and SIGKILL.',
    '    "settle": "100ms",',
    '    "grace": "3s",',
    '    // .env files read before every start (an edit restarts): "envFile": ".env",',
    '  },',
    '  "workers": [',
  );
  for (const w of workers) {
    lines.push(`    // ${w.comment}`, '    {');
    for (const [k, v] of Object.entries(w.fields)) lines.push(`      ${JSON.stringify(k)}: ${inline(v)},`);
    if (w.fields.kind !== 'task') lines.push('      // "ready": { "port": 3000 },  (or { "log": "listening" }): when dependants may start');
    lines.push('    },');
  }
  lines.push('  ],', '}', '');
  return lines.join('\n');
}

/** Arrays on one line with a space after each comma, as a person would write them. */
function inline(v: unknown): string {
  return Array.isArray(v) ? `[${v.map((x) => JSON.stringify(x)).join(', ')}]` : JSON.stringify(v);
}
