import { appendFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendedTo, readFileState } from '../../src/watch/file-state.js';
import { tempDir } from '../helpers/tmp.js';

describe('appendedTo', () => {
  it('tells a file written only at its end from one rewritten, cut or left as it was', () => {
    const file = join(tempDir(), 'app.log');
    writeFileSync(file, 'started 1\n');
    const old = readFileState(file, 'app.log')!;
    expect(appendedTo(file, 'app.log', old)).toBe(false); // unchanged
    appendFileSync(file, 'started 2\n');
    expect(appendedTo(file, 'app.log', old)).toBe(true);
    // The same bytes under another name are other content: the path is part of the state.
    expect(appendedTo(file, 'other.log', old)).toBe(false);
    // Rewritten longer, with a different start.
    writeFileSync(file, 'Started 1\nstarted 2\n');
    expect(appendedTo(file, 'app.log', old)).toBe(false);
    // Cut back, then grown again from the same start: still an append of the old content.
    writeFileSync(file, 'started 1\n');
    truncateSync(file, 4);
    expect(appendedTo(file, 'app.log', old)).toBe(false);
    writeFileSync(file, 'started 1\nmore\n');
    expect(appendedTo(file, 'app.log', old)).toBe(true);
  });

  it('counts an empty file that grew as appended to, and a file that is gone as not', () => {
    const dir = tempDir();
    const file = join(dir, 'x.js');
    writeFileSync(file, '');
    const empty = readFileState(file, 'x.js')!;
    writeFileSync(file, 'module.exports = 1;\n');
    // Every file starts with zero bytes: growing an empty file is an append, and counted as one.
    expect(appendedTo(file, 'x.js', empty)).toBe(true);
    expect(appendedTo(join(dir, 'gone.js'), 'gone.js', empty)).toBe(false);
  });
});
