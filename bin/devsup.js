#!/bin/sh
':' //; if [ "${NODE_EXTRA_CA_CERTS+set}" ]; then export DEVSUP_SHIM_CA="=$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; fi; exec node --max-semi-space-size=1 -- "$0" "$@"
// The two lines above are read by sh, which starts node on this file; node reads the second as a
// string and a comment. (`#!/usr/bin/env -S …` would do the same, but busybox's env, as on Alpine,
// and coreutils before 8.30 have no -S.) `--` ends node's own options: without it node 20 reads a
// `--env-file` meant for `devsup run` itself.
// Node 20 parses every certificate of NODE_EXTRA_CA_CERTS (and its own roots) before running any
// script, about 35 ms of CPU on a common CA bundle, at every start. devsup opens no TLS connection,
// so the variable is moved aside for its own node (marked, so that an empty value stays empty) and
// put back here, before any child inherits it.
const movedCa = process.env.DEVSUP_SHIM_CA;
if (movedCa !== undefined) {
  delete process.env.DEVSUP_SHIM_CA;
  if (movedCa.startsWith('=')) process.env.NODE_EXTRA_CA_CERTS = movedCa.slice(1);
}
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
