import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildJsonSchema } from '../../src/config/json-schema.js';

const committed = JSON.parse(readFileSync(new URL('../../schema/devsup.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const example = JSON.parse(readFileSync(new URL('../../config.example.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** Every object schema in the document, with its JSON pointer-ish location. */
function objectSchemas(node: unknown, at = '#'): [string, Record<string, unknown>][] {
  if (node === null || typeof node !== 'object') return [];
  const here = node as Record<string, unknown>;
  const found: [string, Record<string, unknown>][] = here.type === 'object' && 'properties' in here ? [[at, here]] : [];
  for (const [k, v] of Object.entries(here)) found.push(...objectSchemas(v, `${at}/${k}`));
  return found;
}

describe('schema/devsup.schema.json', () => {
  it('is exactly what buildJsonSchema() produces (regenerate with npm run build)', () => {
    expect(committed).toEqual(buildJsonSchema());
  });

  it('has a title, and a description on every field so editors can show help', () => {
    expect(committed.title).toBe('devsup config');
    for (const [at, schema] of objectSchemas(committed)) {
      for (const [name, field] of Object.entries(schema.properties as Record<string, { description?: string }>)) {
        expect(field.description, `${at}/properties/${name}`).toEqual(expect.any(String));
      }
    }
  });

  it('rejects unknown fields at every level', () => {
    const objects = objectSchemas(committed);
    expect(objects.length).toBeGreaterThanOrEqual(5);
    for (const [at, schema] of objects) expect(schema.additionalProperties, at).toBe(false);

    const validator = z.fromJSONSchema(committed);
    const workers = example.workers as Record<string, unknown>[];
    expect(validator.safeParse(example).success).toBe(true);
    expect(validator.safeParse({ ...example, bogus: 1 }).success).toBe(false);
    expect(validator.safeParse({ workers: [{ ...workers[0], colour: 'red' }] }).success).toBe(false);
    expect(validator.safeParse({ defaults: { name: 'x' }, workers }).success).toBe(false);
    expect(validator.safeParse({ workers: [{ name: 'a', cmd: 'x', ready: { port: 1, extra: 2 } }] }).success).toBe(false);
  });
});
