import { fileURLToPath } from 'node:url';
import { writeTree } from '../helpers/tmp.js';
import type { WorkerSpec } from './rig.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/**
 * An HTTP service answering with the value it imported from value.mjs. It prints
 * `READY pid=<pid> gen=<generation> value=<value>` once listening; on SIGTERM it waits
 * STOP_DELAY_MS before exiting, to make a restart slow on purpose.
 */
export function writeHttpApp(root: string, value: string): void {
  writeTree(root, {
    'app.mjs': [
      "import { createServer } from 'node:http';",
      "const { value } = await import('./value.mjs');",
      "process.on('SIGTERM', () => setTimeout(() => process.exit(0), Number(process.env.STOP_DELAY_MS ?? 0)));",
      'createServer((req, res) => res.end(value)).listen(Number(process.env.PORT), "127.0.0.1", () => {',
      '  console.log(`READY pid=${process.pid} gen=${process.env.DEVSUP_GENERATION} value=${value}`);',
      '});',
    ].join('\n'),
    'value.mjs': `export const value = '${value}';\n`,
  });
}

export function httpWorker(port: number, stopDelayMs = 0): WorkerSpec {
  return { name: 'web', command: ['node', 'app.mjs'], env: { PORT: String(port), STOP_DELAY_MS: String(stopDelayMs) }, ready: { log: '^READY' } };
}

export async function fetchValue(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return res.text();
}

/** A service that loads two files that must agree: `READY pid=<pid> gen=<gen> a=<a> b=<b>`. */
export function writePairApp(root: string, value: string): void {
  writeTree(root, {
    'app.mjs': [
      "const { a } = await import('./a.mjs');",
      "const { b } = await import('./b.mjs');",
      "process.on('SIGTERM', () => process.exit(0));",
      'setInterval(() => {}, 1000);',
      'console.log(`READY pid=${process.pid} gen=${process.env.DEVSUP_GENERATION} a=${a} b=${b}`);',
    ].join('\n'),
    'a.mjs': `export const a = '${value}';\n`,
    'b.mjs': `export const b = '${value}';\n`,
  });
}

/** A polite service that prints `READY pid=<pid> gen=<gen>` (test/fixtures/ready.mjs). */
export function readyWorker(name = 'main', extra: Partial<WorkerSpec> = {}): WorkerSpec {
  return { name, command: ['node', `${FIXTURES}ready.mjs`], ready: { log: '^READY' }, ...extra };
}
