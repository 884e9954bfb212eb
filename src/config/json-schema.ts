import { z } from 'zod';
import { ConfigSchema } from './schema.js';

/** The JSON Schema editors use for devsup.config.json; schema/devsup.schema.json is this, written by scripts/gen-schema.mjs. */
export function buildJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ConfigSchema, {
    io: 'input',
    target: 'draft-07',
    override: ({ jsonSchema }) => {
      // `.int()` adds the safe-integer bound; it only clutters editor hovers.
      if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    },
  }) as Record<string, unknown>;
}
