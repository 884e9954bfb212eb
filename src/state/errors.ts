import { DevsupError } from '../core/errors.js';

/**
 * devsup cannot keep its state where it must: a read-only or full file system, no permission, or a
 * symlink where a file or directory of its own belongs. Sysexits' EX_CANTCREAT, so scripts can tell
 * it from a usage error (2) and from a bug (70).
 */
export const STATE_EXIT_CODE = 73;

export class StateError extends DevsupError {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message, 'state', STATE_EXIT_CODE);
  }
}

export function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

const REASONS: Record<string, string> = {
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'it is a symlink, and devsup does not follow links inside its state directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'it is a directory',
};

/**
 * The typed error for a failed write under the state directory, when the cause is one a user can
 * fix; anything else is passed on as it is (a bug, reported as such).
 */
export function stateWriteError(err: unknown, path: string): unknown {
  if (err instanceof StateError) return err;
  const reason = REASONS[errCode(err) ?? ''];
  return reason === undefined ? err : new StateError(`cannot write ${path}: ${reason}`, path);
}

/** A symlink found where devsup keeps a file or directory of its own. */
export function linkRefused(path: string): StateError {
  return new StateError(
    `${path} is a symlink; devsup keeps its state in real files and directories and does not follow links there (remove it)`,
    path,
  );
}
