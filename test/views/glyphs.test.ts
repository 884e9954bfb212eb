import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { forTerminal, toAscii, utf8Locale } from '../../src/views/glyphs.js';
import { plainView } from '../../src/views/plain.js';

describe('ASCII fallbacks', () => {
  it.each([
    [{}, false],
    [{ LANG: 'C' }, false],
    [{ LANG: 'POSIX' }, false],
    [{ LANG: 'en_US.ISO-8859-1' }, false],
    [{ LANG: 'en_US.UTF-8' }, true],
    [{ LANG: 'C.utf8' }, true],
    [{ LANG: '', LC_CTYPE: 'de_DE.UTF-8' }, true],
    // LC_ALL overrides the rest, as in every C program.
    [{ LC_ALL: 'C', LANG: 'en_US.UTF-8' }, false],
    [{ LC_ALL: 'C.UTF-8', LANG: 'C' }, true],
  ])('%j takes UTF-8: %s', (env, yes) => {
    expect(utf8Locale(env)).toBe(yes);
  });

  it('keeps pass and fail apart and the width of a column', () => {
    expect(toAscii('✔✘⊘✔ ↻ 3')).toBe('+x-+ * 3');
    expect(toAscii('── exited ──')).toBe('-- exited --');
    expect(forTerminal('✔', false)).toBe('✔');
  });

  it('the plain view writes ASCII when asked', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const view = plainView(out, { showWorker: false, ascii: true });
    view({ type: 'task-finished', worker: 't', generation: 1, result: 'passed', code: 0, signal: null, durationMs: 10, changedFiles: 0 });
    view({ type: 'task-finished', worker: 't', generation: 2, result: 'failed', code: 1, signal: null, durationMs: 10, changedFiles: 1 });
    view({ type: 'worker-started', worker: 't', generation: 3, pid: 1, codeId: 'c', startedAt: '', spawnMs: 1, restart: { reason: 'manual' } });
    expect(text).toContain('[devsup] + passed');
    expect(text).toContain('[devsup] x failed (exit 1)');
    expect(text).toContain('[devsup] * restart restart requested - started in 1ms -> pid 1');
    expect(text).not.toMatch(/[^\x00-\x7f]/);
  });
});
