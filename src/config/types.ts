import type { ReadySpec, Signal } from './schema.js';

export type { ReadySpec, Signal };

/** A worker with every field decided: its own value, else `defaults`, else the built-in default. */
export interface ResolvedWorker {
  name: string;
  /** An array is the argv (no shell); a string is a shell command line. */
  cmd: string | string[];
  /** Absolute. */
  cwd: string;
  /** `defaults.env` with the worker's own keys on top; devsup's environment is not included. */
  env: Record<string, string>;
  /** Absolute `.env` paths, each existing when the config was loaded; the worker's list replaces `defaults`'. */
  envFile: string[];
  /** Absolute paths, each existing when the config was loaded. */
  watch: string[];
  ignore: string[];
  /** Without leading dots. Empty: every file counts. */
  ext: string[];
  /**
   * Preset names and globs; false when clearing is turned off; 'auto' when nothing was set, meaning
   * presets chosen from the command, as `devsup run` does without --clear.
   */
  clear: string[] | false | 'auto';
  clearCmd: string | null;
  settle: number;
  grace: number;
  signal: Signal;
  kind: 'service' | 'task';
  restart: 'on-change' | 'on-exit' | 'never';
  dependsOn: string[];
  ready: ReadySpec | null;
  poll: boolean;
  repeat: number;
  /** Absolute path of the JUnit report a task writes, or null. */
  junit: string | null;
}

export interface ResolvedConfig {
  /** Absolute path of the config file. */
  file: string;
  /** Its directory: the base of every relative `cwd`. */
  dir: string;
  /** In a valid start order: every worker after the workers it depends on. */
  workers: ResolvedWorker[];
}
