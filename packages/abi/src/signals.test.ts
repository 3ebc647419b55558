import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { compileC, makeTempDir } from './c-compiler.test-util.js';
import {
  NSIG,
  SIGRTMAX,
  SIGRTMIN,
  SigSet,
  Signal,
  SignalDefault,
  isCatchable,
  isUncatchable,
  siCodeName,
  signalByName,
  signalDefault,
  signalName,
} from './signals.js';

const tmp = makeTempDir();
afterAll(() => tmp.dispose());

describe('signals', () => {
  it('names signals like strace', () => {
    expect(signalName(Signal.SIGTERM)).toBe('SIGTERM');
    expect(signalName(SIGRTMIN)).toBe('SIGRTMIN');
    expect(signalName(34)).toBe('SIGRT_2');
    expect(signalName(SIGRTMAX)).toBe('SIGRT_32');
    expect(signalName(65)).toBe('65');
    expect(signalByName('SIGIOT')).toBe(Signal.SIGABRT);
    expect(signalByName('SIGRTMIN+3')).toBe(35);
    expect(signalByName('SIGRT_40')).toBeUndefined();
    for (let s = 1; s <= NSIG; s++) expect(signalByName(signalName(s))).toBe(s);
  });

  it('knows SIGKILL and SIGSTOP cannot be caught', () => {
    expect(isUncatchable(Signal.SIGKILL)).toBe(true);
    expect(isCatchable(Signal.SIGSTOP)).toBe(false);
    expect(isCatchable(Signal.SIGTERM)).toBe(true);
    expect(isCatchable(0)).toBe(false);
    expect(isCatchable(65)).toBe(false);
  });

  it('names si_codes per signal', () => {
    expect(siCodeName(Signal.SIGSEGV, 1)).toBe('SEGV_MAPERR');
    expect(siCodeName(Signal.SIGCHLD, 1)).toBe('CLD_EXITED');
    expect(siCodeName(Signal.SIGTERM, 0)).toBe('SI_USER');
    expect(siCodeName(Signal.SIGTERM, -6)).toBe('SI_TKILL');
    expect(siCodeName(Signal.SIGSEGV, 0x80)).toBe('SI_KERNEL');
    expect(siCodeName(Signal.SIGTERM, 5)).toBe('5');
  });

  it('has the default actions the running kernel applies', () => {
    // Each signal is sent with SIG_DFL to a child that has it unblocked. The child is killed
    // (term/core), stopped, or survives (ignore/continue). glibc refuses sigaction for 32/33, so
    // the child uses the raw syscalls.
    const src = `
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/resource.h>
struct ksa { void *handler; unsigned long flags; void *restorer; unsigned long mask; };
int main(void) {
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  for (int sig = 1; sig <= 64; sig++) {
    pid_t pid = fork();
    if (pid == 0) {
      /* A process group of its own whose parent sits in another group of the same session is
         never orphaned: Linux discards SIGTSTP/SIGTTIN/SIGTTOU in orphaned groups, and whether
         the test runner's group is orphaned depends on how it was started. */
      setpgid(0, 0);
      struct ksa sa;
      memset(&sa, 0, sizeof sa);
      syscall(SYS_rt_sigaction, sig, &sa, NULL, 8);
      unsigned long none = 0;
      syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
      syscall(SYS_kill, getpid(), sig);
      _exit(0);
    }
    int st;
    waitpid(pid, &st, WUNTRACED);
    if (WIFSTOPPED(st)) { kill(pid, SIGKILL); waitpid(pid, &st, 0); printf("%d stop\\n", sig); }
    else if (WIFSIGNALED(st)) printf("%d %s\\n", sig, WTERMSIG(st) == sig ? "killed" : "other");
    else printf("%d survived\\n", sig);
  }
  return 0;
}`;
    const bin = compileC(tmp.path, 'dfl', { 'dfl.c': src });
    const seen = new Map<number, string>();
    for (const line of execFileSync(bin, { timeout: 60_000 }).toString().trim().split('\n')) {
      const [sig, what] = line.split(' ') as [string, string];
      seen.set(Number(sig), what);
    }
    const expected = (s: number): string => {
      switch (signalDefault(s)) {
        case SignalDefault.Term:
        case SignalDefault.Core:
          return 'killed';
        case SignalDefault.Stop:
          return 'stop';
        default:
          return 'survived';
      }
    };
    const mismatches: string[] = [];
    for (let s = 1; s <= NSIG; s++) if (seen.get(s) !== expected(s)) mismatches.push(`${s}: ${seen.get(s)}`);
    expect(mismatches).toEqual([]);
    expect(signalDefault(Signal.SIGSEGV)).toBe(SignalDefault.Core);
    expect(signalDefault(Signal.SIGCONT)).toBe(SignalDefault.Continue);
    expect(signalDefault(0)).toBeUndefined();
  });
});

describe('SigSet', () => {
  it('adds, removes and converts', () => {
    const set = new SigSet().add(Signal.SIGINT).add(SIGRTMIN).add(64);
    expect(set.toBigInt()).toBe((1n << 1n) | (1n << 31n) | (1n << 63n));
    expect(set.has(SIGRTMIN)).toBe(true);
    expect(set.lowest()).toBe(Signal.SIGINT);
    set.delete(Signal.SIGINT);
    expect(set.lowest()).toBe(SIGRTMIN);
    expect(set.toString()).toBe('[RTMIN RT_32]');
    expect(SigSet.full().removeUncatchable().toString()).toBe('~[KILL STOP]');
    expect(new SigSet().toString()).toBe('[]');
    expect(new SigSet().add(0).add(65).isEmpty()).toBe(true);
  });

  it('behaves like a set of numbers (model-based)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('add', 'delete'), fc.integer({ min: -2, max: 66 }))),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        (ops, other) => {
          const set = new SigSet();
          const model = new Set<number>();
          for (const [op, s] of ops) {
            set[op](s);
            if (s >= 1 && s <= 64) {
              if (op === 'add') model.add(s);
              else model.delete(s);
            }
          }
          expect(set.toArray()).toEqual([...model].sort((a, b) => a - b));
          expect(SigSet.fromBigInt(set.toBigInt()).equals(set)).toBe(true);
          const o = SigSet.fromBigInt(other);
          expect(set.clone().union(o).toBigInt()).toBe(set.toBigInt() | other);
          expect(set.clone().subtract(o).toBigInt()).toBe(set.toBigInt() & ~other & (2n ** 64n - 1n));
          expect(set.clone().intersect(o).toBigInt()).toBe(set.toBigInt() & other);
          expect(set.lowest()).toBe(model.size ? Math.min(...model) : 0);
        },
      ),
    );
  });
});
