// Measurement, not a test (see packages/runtime/bench/README.md, "sixth pass"): what a SIGSYS
// from seccomp RET_TRAP costs when the handler answers in the same thread (no supervisor), against
// a plain syscall and one the filter allows.
//   gcc -O2 -o sigsys-only sigsys-only.c && taskset -c 1 ./sigsys-only
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <time.h>
#include <unistd.h>
static void h(int s, siginfo_t *si, void *c) { (void)s; (void)si; ((ucontext_t *)c)->uc_mcontext.gregs[REG_RAX] = 42; }
static double now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
int main(void) {
  int n = 200000;
  double t0 = now_us();
  for (int i = 0; i < n; i++) syscall(SYS_getppid);
  printf("plain getppid: %.3f us\n", (now_us() - t0) / n);
  struct sigaction sa = {.sa_sigaction = h, .sa_flags = SA_SIGINFO};
  sigaction(SIGSYS, &sa, NULL);
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = 4, .filter = f};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
  t0 = now_us();
  long sum = 0;
  for (int i = 0; i < n; i++) sum += syscall(SYS_getppid);
  printf("SIGSYS round trip (handler answers itself): %.3f us (%s)\n", (now_us() - t0) / n, sum == 42L * n ? "ok" : "bad");
  t0 = now_us();
  for (int i = 0; i < n; i++) syscall(SYS_gettid);
  printf("allowed syscall through filter: %.3f us\n", (now_us() - t0) / n);
  return 0;
}
