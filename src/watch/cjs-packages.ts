import { createRequire } from 'node:module';
import type ignoreFn from 'ignore';
import type picomatchFn from 'picomatch';

// Both are CommonJS, and each costs devsup's start about 4 ms to load. They are loaded when first
// needed (a glob to match, a .gitignore to read), and through require: imported as ES modules,
// node would also scan their source for the names they export. (commander is loaded through
// require too, in cli/commander.ts.)
const require = createRequire(import.meta.url);
let picomatchLib: typeof picomatchFn | undefined;
let ignoreLib: typeof ignoreFn | undefined;

export function loadPicomatch(): typeof picomatchFn {
  return (picomatchLib ??= require('picomatch') as typeof picomatchFn);
}

export function loadIgnore(): typeof ignoreFn {
  return (ignoreLib ??= require('ignore') as typeof ignoreFn);
}
