import { createRequire } from 'node:module';
import type ignoreFn from 'ignore';
import type picomatchFn from 'picomatch';

// Both are CommonJS. Imported as ES modules, node first scans each one's source for the names it
// exports (cjs-module-lexer) at every devsup start, about 10 ms for the two together; through
// require it only runs them. (commander is loaded the same way, in cli/commander.ts.)
const require = createRequire(import.meta.url);

export const picomatch = require('picomatch') as typeof picomatchFn;
export const ignore = require('ignore') as typeof ignoreFn;
