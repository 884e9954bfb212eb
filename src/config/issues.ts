import type { z } from 'zod';
import { describeValue, didYouMean, formatPath } from './describe.js';
import { DEFAULTS_FIELDS, TOP_FIELDS, WORKER_FIELDS } from './schema.js';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

const NOUNS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  record: 'an object',
};

/** Wording for every issue that its field does not word itself: one short clause, no path. */
export function genericMessage(iss: RawIssue): string {
  const got = describeValue(iss.input);
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined ? 'required' : `expected ${NOUNS[iss.expected] ?? iss.expected}, got ${got}`;
    case 'invalid_union':
      return iss.input === undefined ? 'required' : `unexpected value ${got}`;
    case 'invalid_value': {
      const hint = typeof iss.input === 'string' ? didYouMean(iss.input, iss.values.map(String)) : '';
      return `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}, got ${got}${hint}`;
    }
    case 'too_small':
      if ((iss.origin === 'array' || iss.origin === 'string') && Number(iss.minimum) === 1) return 'must not be empty';
      return `must be at least ${iss.minimum}, got ${got}`;
    case 'too_big':
      return `must be at most ${iss.maximum}, got ${got}`;
    case 'invalid_format':
      return `does not match ${iss.pattern ?? iss.format}, got ${got}`;
    case 'unrecognized_keys':
      return `unknown fields ${iss.keys.join(', ')}`;
    default:
      return `invalid value ${got}`;
  }
}

/** One `path: reason` line per problem, with union failures narrowed to the branch the user meant. */
export function issuesToProblems(issues: readonly Issue[], base: readonly PropertyKey[] = []): string[] {
  return issues.flatMap((iss) => {
    const path = [...base, ...iss.path];
    if (iss.code === 'invalid_union') {
      const branch = intendedBranch(iss.errors);
      if (branch) return issuesToProblems(branch, path);
    }
    if (iss.code === 'unrecognized_keys') {
      return iss.keys.map((key) => `${formatPath([...path, key])}: ${unknownField(path, key)}`);
    }
    return [`${formatPath(path)}: ${iss.message}`];
  });
}

/**
 * The branch whose failure is not a plain type mismatch and has the fewest problems. When no
 * branch or several tie, the union's own message is clearer than guessing.
 */
function intendedBranch(branches: readonly Issue[][]): Issue[] | undefined {
  const fits = branches.filter((b) => !b.every(isMismatchHere));
  if (fits.length === 0) return undefined;
  const weights = fits.map((b) => b.reduce((n, i) => n + (i.code === 'unrecognized_keys' ? i.keys.length : 1), 0));
  const least = Math.min(...weights);
  const best = fits.filter((_, i) => weights[i] === least);
  return best.length === 1 ? best[0] : undefined;
}

function isMismatchHere(iss: Issue): boolean {
  if (iss.path.length > 0) return false;
  if (iss.code === 'invalid_type' || iss.code === 'invalid_value') return true;
  return iss.code === 'invalid_union' && iss.errors.every((b) => b.every(isMismatchHere));
}

function unknownField(path: readonly PropertyKey[], key: string): string {
  if (path.length === 0) return `unknown field${didYouMean(key, TOP_FIELDS)}`;
  if (path.length === 1 && path[0] === 'defaults') {
    if (WORKER_FIELDS.includes(key)) return 'set on each worker, not in defaults';
    return `unknown field${didYouMean(key, DEFAULTS_FIELDS)}`;
  }
  if (path.length === 2 && path[0] === 'workers') return `unknown field${didYouMean(key, WORKER_FIELDS)}`;
  if (path.at(-1) === 'ready') return `unknown field${didYouMean(key, ['log', 'port', 'host'])}`;
  return 'unknown field';
}
