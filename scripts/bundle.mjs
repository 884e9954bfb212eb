// Joins tsc's output for the `devsup` command into a few files under dist/bundle/; run after `tsc`.
// Node loads each ES module separately (resolve, read, compile, link): `devsup run` loads about 60
// of them before its first spawn, and as one file with a chunk per lazily imported part it starts
// about 25 ms sooner. Packages stay external and load from node_modules as before.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const out = `${dist}bundle`;
rmSync(out, { recursive: true, force: true });
const bundle = await rolldown({
  input: `${dist}cli/main.js`,
  platform: 'node',
  // Only devsup's own modules are joined: a bare specifier is a package or a node: builtin.
  external: (id) => !id.startsWith('.') && !id.startsWith('/'),
  logLevel: 'warn',
});
await bundle.write({ dir: out, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' });
await bundle.close();
