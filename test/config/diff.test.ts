import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/check.js';
import { diffConfigs } from '../../src/config/load.js';
import { tempDir } from '../helpers/tmp.js';
import { worker } from './problems.js';

describe('diffConfigs', () => {
  const dir = tempDir();
  const load = (raw: unknown) => validateConfig(raw, dir);

  it('finds nothing between equal configs', () => {
    const raw = { workers: [worker('api', { env: { A: '1' } }), worker('web')] };
    expect(diffConfigs(load(raw), load(structuredClone(raw)))).toEqual({ added: [], removed: [], changed: [] });
  });

  it('sorts workers into added, removed and changed', () => {
    const old = load({ workers: [worker('api'), worker('web'), worker('db'), worker('docs')] });
    const next = load({
      workers: [worker('queue'), worker('api', { grace: 10 }), worker('db'), worker('web', { env: { X: '1' } }), worker('auth')],
    });
    expect(diffConfigs(old, next)).toEqual({ added: ['queue', 'auth'], removed: ['docs'], changed: ['api', 'web'] });
  });

  it('counts a change inherited from defaults, and ignores a change that resolves the same', () => {
    const old = load({ workers: [worker('api'), worker('web', { settle: 100 })] });
    const next = load({ defaults: { settle: 50 }, workers: [worker('api'), worker('web', { settle: 100 })] });
    expect(diffConfigs(old, next).changed).toEqual(['api']);
  });

  it('counts a change of start order through dependsOn as a change of the dependent only', () => {
    const old = load({ workers: [worker('api'), worker('web')] });
    const next = load({ workers: [worker('api'), worker('web', { dependsOn: ['api'] })] });
    expect(diffConfigs(old, next)).toEqual({ added: [], removed: [], changed: ['web'] });
  });
});
