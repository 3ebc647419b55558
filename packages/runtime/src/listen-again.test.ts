// A listener shut down for reading and asked to listen again, against Linux:
// testdata/listen-again.c (a port bind(2) named is asked for again, EADDRINUSE while an accepted
// connection holds it without SO_REUSEADDR; an automatic one is given up) runs in a fresh network
// namespace and under tsvisor and must print the same.
import { describe, expect, it } from 'vitest';
import { compile, expectSameUnderTsvisor, runNativeInNetns, testbed } from './c-programs.test-util.js';

let native = '';
const bed = testbed((dir) => {
  const exe = compile(dir, 'listen-again', ['-O1', '-Wall', '-Werror']);
  native = runNativeInNetns(exe);
});

describe('listen-again.c', () => {
  it('keeps or gives up the port as the host kernel does', () => {
    expect(native).toContain(
      '-- SO_REUSEADDR 0, named port\nshutdown(SHUT_RD): 0\nlisten again with the connection open: EADDRINUSE, same port\n',
    );
    expect(native).toContain('listen again after it closed: 0, same port\n-- SO_REUSEADDR 1');
    expect(native).toContain(
      '-- SO_REUSEADDR 0, automatic port\nshutdown(SHUT_RD): 0\nlisten again with the connection open: 0, another port\n',
    );
  });

  it('prints the same under tsvisor', () => expectSameUnderTsvisor(bed, 'listen-again', native), 60_000);
});
