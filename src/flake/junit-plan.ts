import { basename, join, resolve } from 'node:path';

/** How each run's JUnit report is obtained, and where it is read from. */
export interface JunitPlan {
  /** 'pytest' and 'node': devsup asks the runner for a report; 'given': the user's command writes one. */
  kind: 'pytest' | 'node' | 'given';
  /** Absolute path the report of run `run` (from 1) is read from. */
  pathFor(run: number): string;
  /** The command and extra environment of run `run`. */
  commandFor(run: number): { command: string[] | string; env: Record<string, string> };
  /** Every run writes the same file: runs must go one at a time. */
  sharedPath: boolean;
}

export interface PlanInput {
  command: string[] | string;
  cwd: string;
  /** `--junit PATH` ({run} is replaced by the run number), if given. */
  given?: string;
  /** Where devsup puts the reports it asks for: one file per run. */
  dir: string;
  /** The environment the runs inherit (for an existing PYTEST_ADDOPTS). */
  env: NodeJS.ProcessEnv;
}

export type PlanResult = { plan: JunitPlan } | { plan: null; note?: string };

const PYTEST_WORD = /^(py\.?test)(-\d[\d.]*)?$/;
const PYTHON_WORD = /^python(\d+(\.\d+)?)?$/;
const NODE_WORD = /^node(js)?(\d+)?$/;

function words(command: string[] | string): string[] {
  return Array.isArray(command) ? command : command.trim().split(/\s+/);
}

/** `pytest ...`, `python3 -m pytest ...`, also inside a shell line (`cd x && pytest`). */
export function runsPytest(command: string[] | string): boolean {
  const w = words(command);
  // An argument list is one program; a shell line may start pytest after `cd x &&`.
  const starts = Array.isArray(command) ? [0] : w.map((_, i) => i);
  return starts.some((i) => {
    const word = basename(w[i] ?? '');
    return PYTEST_WORD.test(word) || (PYTHON_WORD.test(word) && w[i + 1] === '-m' && w[i + 2] === 'pytest');
  });
}

/** `node [options] --test ...` as an argument list (a shell line is not rewritten). */
export function runsNodeTest(command: string[] | string): boolean {
  if (!Array.isArray(command) || command.length < 2 || !NODE_WORD.test(basename(command[0]!))) return false;
  for (const arg of command.slice(1)) {
    if (arg === '--test') return true;
    // The first non-option is the script: what follows belongs to it, not to node.
    if (!arg.startsWith('-')) return false;
  }
  return false;
}

/** Single quotes as shlex (which pytest uses on PYTEST_ADDOPTS) reads them. */
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'"'"'`)}'`;
}

/**
 * Decides how per-run reports are had. pytest gets `--junitxml` through PYTEST_ADDOPTS, so the
 * command line stays the user's (a trailing `--` or a plugin's own arguments cannot be broken by an
 * inserted flag). node --test gets a second reporter inserted before `--test`, the spec reporter
 * kept on stdout so the saved output still reads as usual. A command that already picks its
 * reporters is left alone: two reporters writing one file would make neither readable.
 */
export function planJunit(input: PlanInput): PlanResult {
  const { command, cwd } = input;
  if (input.given !== undefined) {
    const template = input.given;
    const sharedPath = !template.includes('{run}');
    return {
      plan: {
        kind: 'given',
        sharedPath,
        pathFor: (run) => resolve(cwd, template.replaceAll('{run}', String(run))),
        commandFor: () => ({ command, env: {} }),
      },
    };
  }
  const pathFor = (run: number): string => join(input.dir, `run-${run}.xml`);
  const w = words(command);
  if (runsPytest(command)) {
    if (w.some((a) => a.startsWith('--junitxml') || a.startsWith('--junit-xml'))) {
      return { plan: null, note: 'the command writes its own JUnit report: give --junit PATH to read it per test' };
    }
    const before = input.env.PYTEST_ADDOPTS?.trim();
    return {
      plan: {
        kind: 'pytest',
        sharedPath: false,
        pathFor,
        commandFor: (run) => ({
          command,
          env: { PYTEST_ADDOPTS: `${before ? `${before} ` : ''}--junitxml=${shellQuote(pathFor(run))}` },
        }),
      },
    };
  }
  if (runsNodeTest(command)) {
    const argv = command as string[];
    if (argv.some((a) => a.startsWith('--test-reporter'))) {
      return { plan: null, note: 'the command picks its own test reporters: give --junit PATH to read a JUnit one per test' };
    }
    return {
      plan: {
        kind: 'node',
        sharedPath: false,
        pathFor,
        commandFor: (run) => ({
          command: [
            argv[0]!,
            '--test-reporter=spec',
            '--test-reporter-destination=stdout',
            '--test-reporter=junit',
            `--test-reporter-destination=${pathFor(run)}`,
            ...argv.slice(1),
          ],
          env: {},
        }),
      },
    };
  }
  return { plan: null };
}
