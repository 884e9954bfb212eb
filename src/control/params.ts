import { MAX_TIMEOUT_MS, type Methods } from './protocol.js';

export class BadParams extends Error {
  readonly code = 'bad-params';
}

type P = Record<string, unknown>;

function obj(params: unknown): P {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) throw new BadParams('"params" must be an object');
  return params as P;
}

function name(p: P, key = 'name'): string {
  const v = p[key];
  if (typeof v !== 'string' || v === '' || v.length > 200) throw new BadParams(`"${key}" must be a worker name`);
  return v;
}

function names(v: unknown, key: string): string[] {
  if (!Array.isArray(v) || v.length > 1000 || !v.every((n) => typeof n === 'string' && n !== '' && n.length <= 200)) {
    throw new BadParams(`"${key}" must be an array of worker names`);
  }
  return v as string[];
}

function int(p: P, key: string, min: number, max: number, fallback?: number): number {
  const v = p[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new BadParams(`"${key}" must be an integer from ${min} to ${max}`);
  return v;
}

export const parseParams = {
  restart(params: unknown): string[] | 'all' {
    const p = obj(params);
    if (p.all === true && p.names === undefined) return 'all';
    if (p.names === undefined) throw new BadParams('give "names" (an array) or "all": true');
    const list = names(p.names, 'names');
    if (list.length === 0) throw new BadParams('"names" is empty; to restart everything send "all": true');
    return list;
  },
  name(params: unknown): string {
    return name(obj(params));
  },
  logs(params: unknown): Required<Methods['logs']['params']> {
    const p = obj(params);
    if (p.follow !== undefined && typeof p.follow !== 'boolean') throw new BadParams('"follow" must be a boolean');
    return { name: name(p), lines: int(p, 'lines', 0, 100_000, 200), follow: p.follow === true };
  },
  hold(params: unknown): string {
    const p = obj(params);
    const h = p.holder;
    if (typeof h !== 'string' || h.trim() === '' || h.length > 500) throw new BadParams('"holder" must say who holds (a non-empty string)');
    return h;
  },
  release(params: unknown): string {
    const id = obj(params).holdId;
    if (typeof id !== 'string') throw new BadParams('"holdId" must be the id that hold returned');
    return id;
  },
  waitFresh(params: unknown): { names: string[]; timeoutMs: number } {
    const p = obj(params);
    return { names: p.names === undefined ? [] : names(p.names, 'names'), timeoutMs: int(p, 'timeoutMs', 0, MAX_TIMEOUT_MS, 30_000) };
  },
};
