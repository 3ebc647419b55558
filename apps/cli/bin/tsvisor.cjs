#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS TSVISOR_NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node --concurrent-sparkplug --v8-pool-size=1 --max-semi-space-size=1
// The tsvisor command. Everything is in @tsvisor/cli's main(); this file only starts it (from
// the bundle with its code cache when that is up to date: see load.cjs).
//
// --concurrent-sparkplug (load.cjs's COMMAND_FLAGS): V8's baseline compiler turns each function
// into machine code early in its life, by default on the main thread. A sandbox's supervisor
// runs hundreds of kernel functions for the first time whenever a program starts using
// something new, and those compilations stood in the way of its system calls: on another thread
// a fresh sandbox's first socket(2) takes 1.1 ms instead of 1.37, its first connect(2) 1.75 ms
// instead of 2.3, a 1 MiB loopback transfer with its setup 10.6 ms instead of 12.4 (the first
// 64 MiB and the steady state as before; packages/runtime/bench/README.md, ninth pass). Only a
// flag at Node's start does it: set later, V8 has no thread for it.
//
// --v8-pool-size=1 (also COMMAND_FLAGS): one V8 worker thread instead of Node's four. The
// supervisor's JavaScript runs on one thread; beside it V8's workers compile hot functions with
// TurboFan, Sparkplug and mark the heap. Four of them time-sliced on one spare CPU of a two-CPU
// machine, so every optimised function came late, and the main thread lost turns to them. With
// one, a fresh sandbox's first 64 MiB loopback transfer ran 6% faster (851 against 807 MB/s, 21
// alternating runs), the steady-state transfer too, the rest unchanged
// (packages/runtime/bench/README.md, fifteenth pass). A Node option, so V8 takes the code cache.
//
// --max-semi-space-size=1 (also COMMAND_FLAGS): V8's young generation stays at its smallest, 1 MiB
// per semi-space, instead of growing to 16. The supervisor allocates small objects that die young
// (a system call's arguments, a segment's headers); a 1 MiB nursery is scavenged more often but
// stays in the CPU's caches and in pages already touched, where a growing one keeps faulting in
// fresh pages, which cost 10+ µs each on machines whose page tables the hypervisor manages. A
// fresh sandbox's first 64 MiB loopback transfer ran 1.30 times as fast (333 against 260 MB/s, 15
// alternating runs), open+read+close 35% faster, python3 and busybox scripts 11-12% faster
// (packages/runtime/bench/README.md, seventeenth pass). A V8 flag: the bundle's code cache is
// trained under it.
//
// NODE_EXTRA_CA_CERTS (load.cjs's HELD_ENV): Node parses that file of certificates before it runs
// any JavaScript, about 60 ms for Debian's 140 roots, two thirds of a sandbox's whole start on
// machines that set it for every program (CI images often do). The supervisor makes no TLS
// connection, so the #! line starts Node without it and hands its value on under another name;
// main() gives it back to the sandboxed program's environment (restoreHeldEnv).
'use strict';
const { loadMain, restoreHeldEnv } = require('./load.cjs');

restoreHeldEnv();

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
