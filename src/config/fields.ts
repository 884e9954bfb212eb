import { PRESET_NAMES } from '../caches/presets.js';

/*
 * The constants of the config's shape that code outside the schema needs too. They live apart from
 * schema.ts so that using them does not load zod: a start whose config was already checked
 * (check-record.ts) never needs the schema.
 */

/** What `devsup up` reads when no --config is given. */
export const CONFIG_FILE_NAME = 'devsup.config.json';

export const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGKILL'] as const;
/** The presets `devsup run --clear` knows, so a config can never name one that does nothing. */
export const CLEAR_PRESETS = PRESET_NAMES;
export const WORKER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Built-in values for fields neither the worker nor `defaults` sets. They are applied when
 * resolving, not by zod, so that a worker's silence can still inherit from `defaults`.
 */
export const BUILTIN_DEFAULTS = {
  cwd: '.',
  env: {},
  envFile: [],
  watch: ['.'],
  ignore: [],
  ext: [],
  clear: 'auto',
  clearCmd: null,
  settle: 100,
  grace: 3000,
  signal: 'SIGTERM',
  kind: 'service',
  restart: 'on-change',
  dependsOn: [],
  ready: null,
  poll: false,
  repeat: 1,
} as const;
