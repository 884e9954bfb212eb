#!/usr/bin/env -S node --max-semi-space-size=1
// A supervisor keeps its snapshot for hours and allocates little once started: a small young
// generation saves tens of megabytes on a big tree and costs nothing noticeable.
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2)));
