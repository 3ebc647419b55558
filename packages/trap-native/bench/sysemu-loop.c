// Measurement, not a test (see packages/runtime/bench/README.md, "fifth pass"): the per-syscall
// cost of today's platform in C: PTRACE_SYSEMU, waitpid, PTRACE_GETREGS, PTRACE_POKEUSER rax.
//   gcc -O2 -o sysemu-loop sysemu-loop.c && taskset -c 1 ./sysemu-loop 20000
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  pid_t pid = fork();
  if (pid == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    for (int i = 0; i < n; i++) syscall(SYS_getppid);
    syscall(SYS_exit_group, 0);
  }
  int status;
  waitpid(pid, &status, 0);
  ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL);
  double t0 = now_us();
  for (;;) {
    ptrace(PTRACE_SYSEMU, pid, 0, 0);
    waitpid(pid, &status, __WALL);
    if (!WIFSTOPPED(status)) break;
    struct user_regs_struct regs;
    ptrace(PTRACE_GETREGS, pid, 0, &regs);
    if (regs.orig_rax == SYS_exit_group) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    // Answer the emulated call: 42 in rax.
    ptrace(PTRACE_POKEUSER, pid, offsetof(struct user_regs_struct, rax), 42L);
  }
  printf("sysemu+getregs+pokeuser: %.2f us/call\n", (now_us() - t0) / n);
  return 0;
}
