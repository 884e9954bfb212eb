import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import {
  PRESET_NAMES,
  isPythonCommand,
  parseClearSpec,
  presetsForCommand,
  splitCommand,
} from '../../src/caches/presets.js';

describe('parseClearSpec', () => {
  it('splits comma lists, dedupes, and keeps anything path-like as a glob', () => {
    expect(parseClearSpec(['python,node', 'tmp/cache/**', 'node', ' vite , *.log'])).toEqual({
      presets: ['python', 'node', 'vite'],
      globs: ['tmp/cache/**', '*.log'],
    });
  });

  it('keeps commas inside braces as part of one glob', () => {
    expect(parseClearSpec(['tmp/{a,b}/**,pytest'])).toEqual({ presets: ['pytest'], globs: ['tmp/{a,b}/**'] });
  });

  it('accepts preset names in any case and drops a leading ./ from globs', () => {
    expect(parseClearSpec(['Python', './build/cache/**'])).toEqual({ presets: ['python'], globs: ['build/cache/**'] });
  });

  it('treats a dotted word as a glob, not a mistyped preset', () => {
    expect(parseClearSpec(['.eslintcache'])).toEqual({ presets: [], globs: ['.eslintcache'] });
  });

  it('rejects a bare unknown word and names every valid preset', () => {
    let err: unknown;
    try {
      parseClearSpec(['python,pyhton']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    expect(message).toContain('"pyhton"');
    for (const name of PRESET_NAMES) expect(message).toContain(name);
  });

  it.each([['/tmp/cache/**'], ['../other/**'], ['tmp/../../x'], ['!keep/**'], ['./']])(
    'rejects %s, which would reach outside a root or mean nothing',
    (glob) => {
      expect(() => parseClearSpec([glob])).toThrow(UsageError);
    },
  );

  it('ignores empty items', () => {
    expect(parseClearSpec(['', 'node,,', ','])).toEqual({ presets: ['node'], globs: [] });
  });
});

describe('presetsForCommand', () => {
  const node = ['node', 'vite', 'tsbuildinfo'];
  it.each<[string | string[], string[]]>([
    [['node', 'server.js'], node],
    ['/usr/local/bin/node --watch server.js', node],
    ['tsx src/index.ts', node],
    ['vitest', node],
    ['vite --port 3000', node],
    ['npx vitest run', node],
    ['npm run dev', node],
    ['npm start', node],
    ['pnpm dev', node],
    ['yarn run build', node],
    ['PORT=3000 node app.js', node],
    ['env -u DEBUG NODE_ENV=development node app.js', node],
    ['python3 app.py', ['pytest']],
    [['python', '-m', 'http.server'], ['pytest']],
    ['pytest -x', ['pytest']],
    ['uv run uvicorn app:app --reload', ['pytest']],
    ['./manage.py runserver', ['pytest']],
    ['cargo run', []],
    ['npm install', []],
    ['', []],
    [[], []],
  ])('%j -> %j', (cmd, expected) => {
    expect(presetsForCommand(cmd)).toEqual(expected);
  });

  it('never clears __pycache__ by default: a fresh PYTHONPYCACHEPREFIX handles Python', () => {
    for (const cmd of ['python3 main.py', 'pytest', 'poetry run python x.py']) {
      expect(presetsForCommand(cmd)).not.toContain('python');
    }
  });
});

describe('isPythonCommand', () => {
  it.each<[string | string[], boolean]>([
    ['python', true],
    ['python3', true],
    ['python3.11', true],
    ['python3.11 -m pytest', true],
    ['/usr/bin/python3', true],
    ['.venv/bin/python', true],
    [['/opt/py/bin/python3.11', 'main.py'], true],
    ['pytest', true],
    ['py.test tests/', true],
    ['uv run app.py', true],
    ['uv --quiet run app.py', true],
    ['poetry run flask run', true],
    ['pipenv run python app.py', true],
    ['python -m uvicorn app:app', true],
    ['PYTHONPATH=src python3 -m app', true],
    ['env python3 app.py', true],
    ['uvicorn app:app --reload', true],
    ['"/path with space/python3" main.py', true],
    ['node server.js', false],
    ['uv pip install x', false],
    ['poetry install', false],
    ['pythonista', false],
    ['mypython', false],
    ['bash -c "python3 x.py"', false],
    ['', false],
  ])('%j -> %s', (cmd, expected) => {
    expect(isPythonCommand(cmd)).toBe(expected);
  });
});

describe('splitCommand', () => {
  it('honours single and double quotes', () => {
    expect(splitCommand(`a "b c" 'd e' f`)).toEqual(['a', 'b c', 'd e', 'f']);
  });
});
