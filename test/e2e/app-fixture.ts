import { writeTree } from '../helpers/tmp.js';

/**
 * A project whose child imports value.mjs and reports what it loaded:
 * `READY pid=<pid> gen=<generation> code=<code id> value=<value>`. It installs its handlers
 * before printing, so a READY line means it can be stopped politely.
 */
export function writeApp(root: string, value = 'one', extra: Record<string, string> = {}): void {
  writeTree(root, {
    'app.mjs': [
      "const { value } = await import('./value.mjs');",
      "process.on('SIGTERM', () => process.exit(0));",
      'setInterval(() => {}, 1000);',
      'console.log(`READY pid=${process.pid} gen=${process.env.DEVSUP_GENERATION} code=${process.env.DEVSUP_CODE_ID} value=${value}`);',
    ].join('\n'),
    'value.mjs': `export const value = '${value}';\n`,
    ...extra,
  });
}
