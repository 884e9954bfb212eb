import { z } from 'zod';
import { DURATION_EXAMPLES, DURATION_PATTERN, parseDurationText } from '../core/duration.js';
import { describeValue } from './describe.js';
import { BUILTIN_DEFAULTS, CLEAR_PRESETS, SIGNALS, WORKER_NAME } from './fields.js';

const text = z.string().min(1);
const texts = z.array(text);

/** A duration: whole milliseconds as a number, or text with a unit (`"2s"`), read as `--grace` reads it. */
function millis(what: string) {
  const error = (iss: { input?: unknown }): string | undefined =>
    iss.input === undefined ? undefined : `expected a duration (${DURATION_EXAMPLES}), got ${describeValue(iss.input)}`;
  const number = z.number({ error }).int({ error }).min(0, { error });
  const withUnit = z.string({ error }).regex(new RegExp(DURATION_PATTERN), { error });
  return z
    .union([number, withUnit], { error })
    .transform((v) => (typeof v === 'number' ? v : parseDurationText(v)!))
    .describe(`${what} A number of milliseconds, or text with a unit: ${DURATION_EXAMPLES}.`);
}

function whole(min: number, max?: number) {
  const range = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
  const error = (iss: { input?: unknown }): string | undefined =>
    iss.input === undefined ? undefined : `expected a whole number ${range}, got ${describeValue(iss.input)}`;
  const atLeast = z.number({ error }).int({ error }).min(min, { error });
  return max === undefined ? atLeast : atLeast.max(max, { error });
}

const regex = text.superRefine((src, ctx) => {
  try {
    new RegExp(src);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    ctx.addIssue({ code: 'custom', message: reason.replace(/^Invalid/, 'invalid') });
  }
});

const ready = z
  .union(
    [
      z.strictObject({
        log: regex.describe('A regular expression (JavaScript syntax) matched against each output line.'),
      }),
      z.strictObject({
        port: whole(1, 65535).describe('TCP port that accepts connections once the service is up.'),
        host: text.describe('Host to connect to. Default: the local machine.').optional(),
      }),
    ],
    {
      error: (iss) => {
        const v = iss.input;
        if (v === undefined) return undefined;
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
          if ('log' in v && 'port' in v) return 'use either "log" or "port", not both';
          return 'expected a "log" regex or a "port" number';
        }
        return `expected {"log": "<regex>"} or {"port": <number>}, got ${describeValue(v)}`;
      },
    },
  )
  .describe('When a service counts as ready, so that dependents can start: a matching log line or an open TCP port.');

const clearEntry = z.union([z.enum(CLEAR_PRESETS), text], {
  error: (iss) => `expected a preset name (${CLEAR_PRESETS.join(', ')}) or a glob, got ${describeValue(iss.input)}`,
});

const cmd = z.union([text, z.array(z.string()).min(1)], {
  error: (iss) =>
    iss.input === undefined
      ? undefined
      : `expected a command string or an array of argv strings, got ${describeValue(iss.input)}`,
});

/** Fields a worker may set and `defaults` may provide for every worker. */
const tuning = {
  cwd: text.describe("Working directory, relative to the config file's directory. Default: that directory."),
  env: z
    .record(z.string(), z.string({ error: (iss) => `expected a string (quote numbers), got ${describeValue(iss.input)}` }))
    .describe("Extra environment variables. A worker's env is merged over defaults.env, key by key."),
  envFile: z
    .union([text, texts], { error: (iss) => `expected a path or an array of paths, got ${describeValue(iss.input)}` })
    .describe(
      '.env files (relative to cwd) read before every start; later files win, `env` wins over them, both over devsup\'s environment. ' +
        'An edit of one restarts the worker.',
    ),
  watch: texts
    .describe('Files or directories whose changes restart the worker, relative to cwd. Each must exist.')
    .meta({ default: BUILTIN_DEFAULTS.watch }),
  ignore: texts.describe('Globs of paths to ignore, on top of .gitignore, node_modules and .git.'),
  ext: texts.describe('File extensions that count as changes ("ts" or ".ts"). Empty: every file counts.'),
  clear: z
    .union([z.array(clearEntry), z.literal(false)], {
      error: (iss) => `expected an array of preset names or globs, or false, got ${describeValue(iss.input)}`,
    })
    .describe(
      `Caches deleted before each start: presets (${CLEAR_PRESETS.join(', ')}) or globs relative to cwd; false clears nothing. ` +
        'Default: presets chosen from the command, as `devsup run` does.',
    ),
  clearCmd: text.describe('Shell command run in cwd before each start, after clear (e.g. to drop a build cache).'),
  settle: millis('Quiet time after the last change before restarting.').meta({ default: BUILTIN_DEFAULTS.settle }),
  grace: millis('Time between the stop signal and SIGKILL to the whole process tree.').meta({
    default: BUILTIN_DEFAULTS.grace,
  }),
  signal: z.enum(SIGNALS).describe('Signal that asks the process tree to stop.').meta({ default: BUILTIN_DEFAULTS.signal }),
  kind: z
    .enum(['service', 'task'])
    .describe('"service" runs until stopped; "task" runs to completion (tests, builds).')
    .meta({ default: BUILTIN_DEFAULTS.kind }),
  restart: z
    .enum(['on-change', 'on-exit', 'never'])
    .describe('"on-change": restart when watched files change; "on-exit": also restart when it exits by itself; "never": start once.')
    .meta({ default: BUILTIN_DEFAULTS.restart }),
  poll: z
    .boolean()
    .describe('Poll the file system instead of native events (network drives, some containers and VMs).')
    .meta({ default: BUILTIN_DEFAULTS.poll }),
  repeat: whole(1)
    .describe('For tasks: how many times to run per trigger, to shake out flaky tests.')
    .meta({ default: BUILTIN_DEFAULTS.repeat }),
};

type Optional<T extends Record<string, z.ZodType>> = { [K in keyof T]: z.ZodOptional<T[K]> };
function optional<T extends Record<string, z.ZodType>>(shape: T): Optional<T> {
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()])) as Optional<T>;
}

const t = optional(tuning);

export const WorkerSchema = z
  .strictObject({
    name: z
      .string()
      .regex(WORKER_NAME, {
        error: (iss) =>
          `must start with a letter or digit and use only letters, digits, "_", "." and "-", got ${describeValue(iss.input)}`,
      })
      .describe('Unique name, used in logs, in dependsOn and on the command line.'),
    cmd: cmd.describe('The command: an array is the argv, run without a shell; a string is run by the shell.'),
    cwd: t.cwd,
    env: t.env,
    envFile: t.envFile,
    watch: t.watch,
    ignore: t.ignore,
    ext: t.ext,
    clear: t.clear,
    clearCmd: t.clearCmd,
    settle: t.settle,
    grace: t.grace,
    signal: t.signal,
    kind: t.kind,
    restart: t.restart,
    dependsOn: texts
      .describe('Names of workers that must be ready (services) or finished (tasks) before this one starts.')
      .optional(),
    ready: ready.optional(),
    poll: t.poll,
    repeat: t.repeat,
    junit: z
      .string()
      .min(1)
      .describe('For tasks: the JUnit XML report the command writes (relative to cwd), read after each run to count failures per test.')
      .optional(),
  })
  .describe('One supervised process.');

export const DefaultsSchema = z.strictObject(t).describe('Values every worker inherits unless it sets its own.');

export const ConfigSchema = z
  .strictObject({
    $schema: z.string().describe('Path or URL of the JSON Schema, for editors.').optional(),
    defaults: DefaultsSchema.optional(),
    workers: z
      .array(WorkerSchema)
      .min(1, { error: 'must list at least one worker' })
      .describe('The processes to supervise, started in dependsOn order.'),
  })
  .meta({ title: 'devsup config', description: 'Workers run by `devsup up`.' });

export const WORKER_FIELDS: readonly string[] = Object.keys(WorkerSchema.shape);
export const DEFAULTS_FIELDS: readonly string[] = Object.keys(DefaultsSchema.shape);
export const TOP_FIELDS: readonly string[] = Object.keys(ConfigSchema.shape);

export type ConfigInput = z.infer<typeof ConfigSchema>;
export type WorkerInput = z.infer<typeof WorkerSchema>;
export type DefaultsInput = z.infer<typeof DefaultsSchema>;
export type Signal = (typeof SIGNALS)[number];
export type ReadySpec = NonNullable<WorkerInput['ready']>;
