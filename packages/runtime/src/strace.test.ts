import { describe, expect, it } from 'vitest';
import { E } from '@tsvisor/abi';
import { ERESTARTSYS } from '@tsvisor/kernel';
import { Strace } from './strace.js';

const noMemory = (): typeof E.EFAULT => E.EFAULT;
const WAIT4 = 61;
const GETPID = 39;

function tracer(): { strace: Strace; lines: string[] } {
  const lines: string[] = [];
  return { strace: new Strace((l) => lines.push(l)), lines };
}

describe('Strace', () => {
  it('prints a call that waited as one line when nothing came in between', () => {
    const { strace, lines } = tracer();
    strace.begin(1, GETPID, [], noMemory);
    strace.complete(1, GETPID, [], 1, noMemory);
    expect(lines).toEqual(['getpid() = 1']);
  });

  it('splits a waiting call into unfinished and resumed lines around another task, as strace -f', () => {
    const { strace, lines } = tracer();
    strace.multi = true;
    strace.begin(1, WAIT4, [-1, 0, 0, 0], noMemory);
    strace.complete(2, GETPID, [], 2, noMemory);
    strace.complete(1, WAIT4, [-1, 0, 0, 0], 2, noMemory);
    expect(lines).toEqual([
      '[pid     1] wait4(-1, <unfinished ...>',
      '[pid     2] getpid() = 2',
      '[pid     1] <... wait4 resumed>NULL, 0, NULL) = 2',
    ]);
  });

  it('resumes with the result alone when the arguments no longer render as at entry', () => {
    const { strace, lines } = tracer();
    let readable = true;
    const memory = (_addr: number, len: number): Uint8Array | typeof E.EFAULT => {
      if (!readable) return E.EFAULT;
      const buf = new Uint8Array(len);
      buf.set(new TextEncoder().encode('/tmp').subarray(0, len));
      return buf;
    };
    strace.begin(1, 257, [-100, 0x1000, 0, 0], memory);
    strace.complete(2, GETPID, [], 2, noMemory);
    readable = false;
    strace.noReturn(1, 257, [-100, 0x1000, 0, 0], memory);
    expect(lines[0]).toBe('openat(AT_FDCWD, "/tmp", O_RDONLY, <unfinished ...>');
    expect(lines[2]).toBe('<... openat resumed>) = ?');
  });

  it('shows restarts and calls that do not return with `?`', () => {
    const { strace, lines } = tracer();
    strace.restarted(1, WAIT4, [-1, 0, 0, 0], ERESTARTSYS, noMemory);
    strace.noReturn(1, 231, [0], noMemory);
    strace.processEnd(1, 0);
    strace.processEnd(2, 9);
    strace.processEnd(3, 11 | 0x80);
    expect(lines).toEqual([
      'wait4(-1, NULL, 0, NULL) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)',
      'exit_group(0) = ?',
      '+++ exited with 0 +++',
      '+++ killed by SIGKILL +++',
      '+++ killed by SIGSEGV (core dumped) +++',
    ]);
  });
});
