#!/usr/bin/env node
// The tsvisor command. Everything is in @tsvisor/cli's main(); this file only starts it (from
// the bundle with its code cache when that is up to date: see load.cjs).
'use strict';
const { loadMain } = require('./load.cjs');

const fail = (e) => {
  process.stderr.write(
    `tsvisor: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(125);
};

loadMain().then(
  ({ main, done }) =>
    main(process.argv.slice(2)).then((status) => {
      done();
      process.exit(status);
    }, fail),
  fail,
);
