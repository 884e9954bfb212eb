import { stripSgr, truncate } from './ansi.js';
import type { WorkerLog } from './log-pane.js';
import type { Ring } from '../../core/ring.js';
import type { StatusTone } from './status.js';

export interface Query {
  text: string;
  /** Smart case: a query with a capital letter matches case exactly. */
  caseSensitive: boolean;
}

export function makeQuery(text: string): Query {
  return { text, caseSensitive: text !== text.toLowerCase() };
}

/** Start offsets of every occurrence of the query in a line's plain text. */
export function matchesIn(plain: string, q: Query): number[] {
  if (q.text === '') return [];
  const hay = q.caseSensitive ? plain : plain.toLowerCase();
  const needle = q.caseSensitive ? q.text : q.text.toLowerCase();
  const out: number[] = [];
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + needle.length)) out.push(i);
  return out;
}

export function lineMatches(line: string, q: Query): boolean {
  if (q.text === '') return false;
  const plain = stripSgr(line);
  return q.caseSensitive ? plain.includes(q.text) : plain.toLowerCase().includes(q.text.toLowerCase());
}

export interface Hit {
  pos: number;
  /** The search ran past the oldest (or newest) line and went on from the other end. */
  wrapped: boolean;
}

/**
 * Finds the nearest line matching `q`, starting at absolute position `from` (inclusive) and moving
 * towards older or newer lines, wrapping around once.
 */
export function findMatch(ring: Ring<string>, q: Query, from: number, dir: 'older' | 'newer'): Hit | null {
  if (q.text === '' || ring.length === 0) return null;
  const step = dir === 'older' ? -1 : 1;
  const first = Math.min(Math.max(from, ring.start), ring.end - 1);
  let pos = first;
  let wrapped = false;
  for (let n = 0; n < ring.length; n++) {
    const line = ring.at(pos);
    if (line !== undefined && lineMatches(line, q)) return { pos, wrapped };
    pos += step;
    if (pos < ring.start) {
      pos = ring.end - 1;
      wrapped = true;
    } else if (pos >= ring.end) {
      pos = ring.start;
      wrapped = true;
    }
  }
  return null;
}

const MARK_ON = '\x1b[30;43m';
const MARK_OFF = '\x1b[39;49m';

/**
 * A matching line as plain text cut to `width`, with each occurrence marked. Its own colours are
 * dropped: a highlight cannot be layered over them in blessed, whose resets clear every attribute.
 */
export function highlightLine(line: string, q: Query, width: number): string {
  const plain = truncate(stripSgr(line), width);
  const hits = matchesIn(plain, q);
  if (hits.length === 0) return plain;
  let out = '';
  let last = 0;
  for (const at of hits) {
    out += plain.slice(last, at) + MARK_ON + plain.slice(at, at + q.text.length) + MARK_OFF;
    last = at + q.text.length;
  }
  return out + plain.slice(last);
}

export interface PaneSearch {
  query: Query;
  /** Absolute position of the line the last jump landed on. */
  current: number | null;
}

export interface SearchNote {
  text: string;
  tone: StatusTone;
}

/** The search of the log on screen: `/` starts it at the bottom of the view, n and N go on. */
export class LogSearch {
  active: PaneSearch | null = null;

  start(text: string, log: WorkerLog, height: number): SearchNote | null {
    this.active = { query: makeQuery(text), current: null };
    return this.jump(log, height, log.firstVisible(height) + height - 1, 'older');
  }

  next(dir: 'older' | 'newer', log: WorkerLog, height: number): SearchNote | null {
    if (!this.active) return { text: 'no search yet: press / to search', tone: 'info' };
    const at = this.active.current ?? log.firstVisible(height) + height - 1;
    return this.jump(log, height, dir === 'older' ? at - 1 : at + 1, dir);
  }

  /** A position belongs to one worker's log; another worker's search starts from its view. */
  forgetPosition(): void {
    if (this.active) this.active.current = null;
  }

  clear(): void {
    this.active = null;
  }

  private jump(log: WorkerLog, height: number, from: number, dir: 'older' | 'newer'): SearchNote | null {
    const s = this.active!;
    const hit = findMatch(log.ring, s.query, from, dir);
    if (!hit) {
      s.current = null;
      return { text: `not found: ${s.query.text}`, tone: 'error' };
    }
    s.current = hit.pos;
    log.reveal(hit.pos, height);
    return hit.wrapped ? { text: `search wrapped around the ${dir === 'older' ? 'oldest' : 'newest'} line`, tone: 'info' } : null;
  }
}
