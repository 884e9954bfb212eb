import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { CUT_MARK, MAX_LINE, readLines } from '../../src/process/lines.js';
import { childKeeper } from '../helpers/procs.js';
import { waitFor } from '../helpers/wait.js';

const kids = childKeeper();
afterEach(() => kids.killAll());

/** The lines a real node child's stdout gives, once it has ended. */
async function linesOf(script: string): Promise<string[]> {
  const child = kids.keep(spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const lines: string[] = [];
  let ended = false;
  readLines(child.stdout!, (l) => lines.push(l));
  child.stdout!.on('end', () => (ended = true));
  await waitFor(() => ended, 'the child output to end', 20_000);
  return lines;
}

describe('readLines', () => {
  it('cuts a 5 MB line without a newline to its head and a marker, and goes on with the next line', async () => {
    const lines = await linesOf("const w = (s) => require('fs').writeSync(1, s); for (let i = 0; i < 80; i++) w(Buffer.alloc(65536, 'y')); w('\\nafter\\n');");
    expect(lines).toEqual([`${'y'.repeat(MAX_LINE)}${CUT_MARK}`, 'after']);
  });

  it('cuts a long line of multi-byte characters between characters, and a terminated long line too', async () => {
    const lines = await linesOf(`process.stdout.write('é'.repeat(${MAX_LINE}) + '\\n' + 'x'.repeat(${MAX_LINE}) + '\\nend');`);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`${'é'.repeat(MAX_LINE / 2)}${CUT_MARK}`);
    expect(lines[1]).toBe('x'.repeat(MAX_LINE));
    expect(lines[2]).toBe('end');
  });

  it('survives random bytes, NULs, invalid UTF-8 and escapes, and every line stays bounded', async () => {
    const lines = await linesOf(
      "const c = require('crypto'); for (let i = 0; i < 100; i++) { process.stdout.write(c.randomBytes(50000)); process.stdout.write(Buffer.from([0, 0xff, 0xfe, 0xc3, 0x1b, 0x5b, 0x32, 0x4a, 0x0d])); } process.stdout.write('\\ndone\\n');",
    );
    expect(lines.at(-1)).toBe('done');
    expect(lines.length).toBeGreaterThan(1000);
    // Each character decodes from at least one byte: no line holds more than MAX_LINE of them.
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(MAX_LINE + CUT_MARK.length);
    expect(lines.some((l) => l.includes('\uFFFD'))).toBe(true);
  });

  it('joins a character split across reads, strips CR before LF, and gives an unterminated last line', async () => {
    const s = new PassThrough();
    const lines: string[] = [];
    readLines(s, (l) => lines.push(l));
    const e = Buffer.from('é');
    s.write(Buffer.from('caf'));
    s.write(e.subarray(0, 1));
    s.write(e.subarray(1));
    s.write('\r\nwin\r\n\nlast');
    s.end();
    await waitFor(() => lines.length === 4, 'four lines');
    expect(lines).toEqual(['café', 'win', '', 'last']);
  });

  it('drops a cut line up to its newline even when that comes many reads later', async () => {
    const s = new PassThrough();
    const lines: string[] = [];
    readLines(s, (l) => lines.push(l));
    for (let i = 0; i < 200; i++) s.write(Buffer.alloc(50_000, 'z'));
    s.write('tail of the long one\nnext\n');
    s.end();
    await waitFor(() => lines.includes('next'), 'the line after the long one');
    expect(lines).toEqual([`${'z'.repeat(MAX_LINE)}${CUT_MARK}`, 'next']);
  });
});
