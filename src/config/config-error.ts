import { ConfigError } from '../core/errors.js';

/** One ConfigError listing every problem under a header line naming the file. */
export function configError(file: string, problems: string[]): ConfigError {
  return new ConfigError([`invalid config ${file}:`, ...problems.map((p) => `  ${p}`)].join('\n'), problems);
}
