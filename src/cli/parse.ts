import { InvalidArgumentError } from './commander.js';
import { constants } from 'node:os';
import { DURATION_EXAMPLES, parseDurationText } from '../core/duration.js';

/** `500` (milliseconds), `500ms`, `2s` or `1m`, as milliseconds. */
export function parseDuration(value: string): number {
  const ms = parseDurationText(value);
  if (ms === undefined) throw new InvalidArgumentError(`expected a duration such as ${DURATION_EXAMPLES} (plain numbers are milliseconds), got "${value}"`);
  return ms;
}

/**
 * A parser for a whole number from `min` to `max` (surrounding blanks allowed); anything else is a
 * usage error (exit 2) before anything runs. A factory, because commander passes the previous
 * value as a parser's second argument.
 */
export function countParser(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
  return (value) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number ${range}, got "${value}"`);
    return n;
  };
}

export function parseSignal(value: string): NodeJS.Signals {
  const up = value.toUpperCase();
  const name = (up.startsWith('SIG') ? up : `SIG${up}`) as NodeJS.Signals;
  if (!(name in constants.signals)) throw new InvalidArgumentError(`unknown signal "${value}"`);
  return name;
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `py,ts` and `.py` both mean the extensions py and ts. */
export function parseExtList(value: string, previous: string[] | undefined): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim().replace(/^\./, ''))
    .filter(Boolean);
  if (items.length === 0) throw new InvalidArgumentError(`expected extensions such as py,ts, got "${value}"`);
  return [...(previous ?? []), ...items];
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`expected a port from 1 to 65535, got "${value}"`);
  return n;
}

/** A regex the user typed; compiled here so a mistake is a usage error, not a crash later. */
export function parseRegex(value: string): RegExp {
  try {
    return new RegExp(value);
  } catch (err) {
    throw new InvalidArgumentError(`invalid regular expression "${value}": ${(err as Error).message}`);
  }
}
