// Writes schema/devsup.schema.json from the compiled zod schema; run after `tsc`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildJsonSchema } from '../dist/config/json-schema.js';

const dir = new URL('../schema/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('devsup.schema.json', dir), `${JSON.stringify(buildJsonSchema(), null, 2)}\n`);
