import { STATE_DIR_NAME } from '../state/paths.js';

/** Directory names never watched or read, at any depth below a root. */
export const DEFAULT_IGNORED_DIRS: readonly string[] = [
  '.git',
  'node_modules',
  STATE_DIR_NAME,
  '__pycache__',
  '.pytest_cache',
  '.venv',
  'venv',
  'dist',
  'build',
  'coverage',
];
