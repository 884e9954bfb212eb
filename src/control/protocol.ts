import { StringDecoder } from 'node:string_decoder';
import type { LogLine, SupervisorSnapshot, WaitFreshResult } from '../supervisor/api.js';
import { serializeEvent, type DevsupEvent } from '../core/events.js';

export const PROTOCOL_VERSION = 1;
/** Longest request line the server reads; anything longer is answered with an error and the connection closed. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** setTimeout's limit: a longer delay would fire at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export type RequestId = string | number;

export interface Request {
  v: 1;
  id: RequestId;
  method: string;
  params?: unknown;
}

export interface ProtocolError {
  code: string;
  message: string;
}

export type Response =
  | { v: 1; id: RequestId | null; ok: true; result: unknown }
  | { v: 1; id: RequestId | null; ok: false; error: ProtocolError };

/** What each method takes and answers, for the client's types. */
export interface Methods {
  snapshot: { params: Record<string, never>; result: SupervisorSnapshot };
  restart: { params: { names: string[] } | { all: true }; result: Record<string, never> };
  stop: { params: { name: string }; result: Record<string, never> };
  start: { params: { name: string }; result: Record<string, never> };
  logs: { params: { name: string; lines?: number; follow?: boolean }; result: { lines: LogLine[] } };
  hold: { params: { holder: string }; result: { holdId: string } };
  release: { params: { holdId: string }; result: Record<string, never> };
  waitFresh: { params: { names?: string[]; timeoutMs: number }; result: WaitFreshResult };
  subscribe: { params: Record<string, never>; result: Record<string, never> };
  clearCaches: { params: { name: string }; result: { paths: string[]; bytes: number } };
}

export type Method = keyof Methods;
export const METHODS: readonly Method[] = ['snapshot', 'restart', 'stop', 'start', 'logs', 'hold', 'release', 'waitFresh', 'subscribe', 'clearCaches'];

export function encodeResponse(r: Response): string {
  return `${JSON.stringify(r)}\n`;
}

export function encodeRequest(r: Request): string {
  return `${JSON.stringify(r)}\n`;
}

/** The event exactly as `--json` prints it, wrapped; built as text so it is serialised once for all subscribers. */
export function encodeEvent(e: DevsupEvent): string {
  return `{"v":${PROTOCOL_VERSION},"event":${serializeEvent(e)}}\n`;
}

export function errorResponse(id: RequestId | null, code: string, message: string): Response {
  return { v: 1, id, ok: false, error: { code, message } };
}

/**
 * Splits a byte stream into lines. The bytes of an unfinished line are kept as they came and
 * decoded once its newline arrives, so a character split between two chunks survives; a line that
 * grows past `maxBytes` before its newline sets `overflow` and the rest of the stream is ignored.
 */
export class LineDecoder {
  private parts: Buffer[] = [];
  private partialBytes = 0;
  overflow = false;

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  /** Bytes held for a line whose newline has not come yet. */
  get pending(): number {
    return this.partialBytes;
  }

  push(chunk: Buffer): string[] {
    if (this.overflow) return [];
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (this.partialBytes + nl - start > this.maxBytes) return this.overflowed(lines);
      const tail = chunk.subarray(start, nl);
      const bytes = this.parts.length === 0 ? tail : Buffer.concat([...this.parts, tail]);
      lines.push(stripCr(bytes.toString('utf8')));
      this.parts = [];
      this.partialBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.partialBytes += chunk.length - start;
      if (this.partialBytes > this.maxBytes) return this.overflowed(lines);
      // A socket hands over each read in a buffer of its own size: kept as it is, not copied.
      this.parts.push(start === 0 ? chunk : chunk.subarray(start));
    }
    return lines;
  }

  /** Forgets the unfinished line (its client is being dropped). */
  drop(): void {
    this.parts = [];
    this.partialBytes = 0;
    this.overflow = true;
  }

  private overflowed(lines: string[]): string[] {
    this.drop();
    return lines;
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

export type Parsed = { ok: true; req: Request } | { ok: false; res: Response };

/** Checks the envelope; params are checked by the method. Echoes the id whenever one can be read. */
export function parseRequest(line: string): Parsed {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (err) {
    return { ok: false, res: errorResponse(null, 'bad-json', `not valid JSON: ${(err as Error).message}`) };
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    return { ok: false, res: errorResponse(null, 'bad-request', 'a request is a JSON object: {"v":1,"id":1,"method":"snapshot","params":{}}') };
  }
  const r = o as Record<string, unknown>;
  const id = typeof r.id === 'string' || (typeof r.id === 'number' && Number.isFinite(r.id)) ? r.id : null;
  if (id === null) return { ok: false, res: errorResponse(null, 'bad-request', '"id" must be a string or a number') };
  if (r.v !== PROTOCOL_VERSION) return { ok: false, res: errorResponse(id, 'unsupported-version', `"v" must be ${PROTOCOL_VERSION}`) };
  if (typeof r.method !== 'string') return { ok: false, res: errorResponse(id, 'bad-request', '"method" must be a string') };
  if (!(METHODS as readonly string[]).includes(r.method)) {
    return { ok: false, res: errorResponse(id, 'unknown-method', `unknown method "${r.method}"; methods: ${METHODS.join(', ')}`) };
  }
  return { ok: true, req: { v: 1, id, method: r.method, params: r.params } };
}
