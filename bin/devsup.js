#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS DEVSUP_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node --max-semi-space-size=1 --
// `--` ends node's own options: without it node 20 reads a `--env-file` meant for `devsup run` itself.
// Node 20 parses every certificate of NODE_EXTRA_CA_CERTS (and its own roots) before running any
// script, about 35 ms of CPU on a common CA bundle, at every start. devsup opens no TLS connection,
// so the variable is moved aside for its own node and put back here, before any child inherits it.
const extraCa = process.env.DEVSUP_EXTRA_CA_CERTS;
delete process.env.DEVSUP_EXTRA_CA_CERTS;
if (extraCa) process.env.NODE_EXTRA_CA_CERTS = extraCa;
// A supervisor keeps its snapshot for hours and allocates little once started: a small young
// generation saves tens of megabytes on a big tree and costs nothing noticeable.
// Once idle, V8 shrinks the heap with up to three full collections in a row; on a big tree the first
// returns all there is to return and the other two cost about 0.1 s of CPU each for nothing.
import { setFlagsFromString } from 'node:v8';
setFlagsFromString('--memory-reducer-single-gc');
// dist/bundle is tsc's output joined into a few files (scripts/bundle.mjs); DEVSUP_UNBUNDLED=1
// runs the separate modules instead, for tools that wrap them (bench/profile.mjs); only a checkout
// has them, the package ships the bundle alone.
const entry = process.env.DEVSUP_UNBUNDLED === '1' ? '../dist/cli/main.js' : '../dist/bundle/main.js';
import(entry).then((m) => m.main(process.argv.slice(2)));
