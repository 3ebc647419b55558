#!/usr/bin/env node
// The tsvisor command. Everything is in @tsvisor/cli's main(); this file only starts it.
import { main } from '../dist/index.js';

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (e) => {
    process.stderr.write(
      `tsvisor: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exit(125);
  },
);
