import { compileSources } from '../helpers/compile.js';

/** Child processes run the real store: returns a dir holding the compiled history/ and core/. */
export function compileHistory(): string {
  return compileSources(['history/store.ts', 'history/lock.ts'], 'devsup-history-js-');
}
