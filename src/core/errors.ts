/**
 * Errors a user can cause. The CLI prints `message` on one line and exits with `exitCode`;
 * anything that is not a DevsupError is a bug and is reported as such.
 */
export class DevsupError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad arguments or options: exit 2, like most Unix tools. */
export class UsageError extends DevsupError {
  constructor(message: string) {
    super(message, 'usage', 2);
  }
}

/** An invalid config file: every problem listed, nothing started. */
export class ConfigError extends DevsupError {
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message, 'config', 2);
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
