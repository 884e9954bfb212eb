import { describe, expect, it } from 'vitest';
import { encodeEvent, LineDecoder, parseRequest } from '../../src/control/protocol.js';
import { parseParams } from '../../src/control/params.js';

describe('control protocol framing', () => {
  it('splits lines across and within chunks, keeps a character split between chunks, drops CR', () => {
    const d = new LineDecoder(1024);
    const bytes = Buffer.from('{"a":"é"}\r\n{"b":2}\n{"c"');
    const split = bytes.indexOf(Buffer.from('é')) + 1;
    expect(d.push(bytes.subarray(0, split))).toEqual([]);
    expect(d.push(bytes.subarray(split))).toEqual(['{"a":"é"}', '{"b":2}']);
    expect(d.push(Buffer.from(':3}\n'))).toEqual(['{"c":3}']);
    expect(d.overflow).toBe(false);
  });

  it('flags a line longer than the limit, whether it arrives whole or in pieces, and reads nothing after', () => {
    const whole = new LineDecoder(10);
    expect(whole.push(Buffer.from('ok\n0123456789A\nlater\n'))).toEqual(['ok']);
    expect(whole.overflow).toBe(true);
    expect(whole.push(Buffer.from('more\n'))).toEqual([]);

    const pieces = new LineDecoder(10);
    expect(pieces.push(Buffer.from('012345'))).toEqual([]);
    expect(pieces.overflow).toBe(false);
    pieces.push(Buffer.from('6789AB'));
    expect(pieces.overflow).toBe(true);

    const exact = new LineDecoder(10);
    expect(exact.push(Buffer.from('0123456789\n'))).toEqual(['0123456789']);
    expect(exact.overflow).toBe(false);
  });

  it('answers malformed requests with a code, echoing the id when there is one', () => {
    const bad = (line: string) => {
      const p = parseRequest(line);
      if (p.ok) throw new Error('parsed');
      return p.res;
    };
    expect(bad('{nope')).toMatchObject({ v: 1, id: null, ok: false, error: { code: 'bad-json' } });
    expect(bad('[1,2]')).toMatchObject({ id: null, error: { code: 'bad-request' } });
    expect(bad('{"v":1,"method":"snapshot"}')).toMatchObject({ id: null, error: { code: 'bad-request' } });
    expect(bad('{"v":2,"id":7,"method":"snapshot"}')).toMatchObject({ id: 7, error: { code: 'unsupported-version' } });
    expect(bad('{"v":1,"id":"x","method":"exec"}')).toMatchObject({ id: 'x', error: { code: 'unknown-method' } });
    expect(bad('{"v":1,"id":1,"method":"toString"}')).toMatchObject({ error: { code: 'unknown-method' } });
    expect(parseRequest('{"v":1,"id":3,"method":"logs","params":{"name":"w"}}')).toEqual({
      ok: true,
      req: { v: 1, id: 3, method: 'logs', params: { name: 'w' } },
    });
  });

  it('checks params', () => {
    expect(parseParams.restart({ all: true })).toBe('all');
    expect(parseParams.restart({ names: ['a'] })).toEqual(['a']);
    expect(() => parseParams.restart({})).toThrow(/names/);
    expect(() => parseParams.restart({ names: [] })).toThrow(/empty/);
    expect(() => parseParams.restart({ names: 'a' })).toThrow(/array/);
    expect(parseParams.logs({ name: 'w' })).toEqual({ name: 'w', lines: 200, follow: false });
    expect(() => parseParams.logs({ name: 'w', lines: -1 })).toThrow(/lines/);
    expect(() => parseParams.waitFresh({ timeoutMs: 2 ** 31 })).toThrow(/timeoutMs/);
    expect(() => parseParams.name([])).toThrow(/object/);
    expect(() => parseParams.hold({ holder: ' ' })).toThrow(/holder/);
  });

  it('wraps an event exactly as the JSON view prints it', () => {
    const line = encodeEvent({ type: 'fresh', worker: 'w', generation: 2, codeId: 'a1b2c3d4e5' });
    expect(line.endsWith('\n')).toBe(true);
    const o = JSON.parse(line) as { v: number; event: Record<string, unknown> };
    expect(o.v).toBe(1);
    expect(o.event).toMatchObject({ v: 1, type: 'fresh', worker: 'w', generation: 2 });
    expect(new Date(o.event.t as string).toISOString()).toBe(o.event.t);
  });
});
