// Measurement, not a test (see packages/runtime/bench/README.md, "sixth pass"): the per-syscall
// cost of a systrap-style platform in C: seccomp RET_TRAP turns the call into SIGSYS in the app's
// own thread; the handler copies the registers from its ucontext into memory shared with the
// supervisor, wakes it with a futex and sleeps on the futex until the answer is written, stores
// the result in the ucontext's rax and returns through rt_sigreturn. No ptrace stop, and the
// registers come with every call. "spin" polls 2000 times before each futex wait.
//   gcc -O2 -o systrap-loop systrap-loop.c && taskset -c 1 ./systrap-loop 20000 [spin]
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
  _Atomic int state; // 0 idle, 1 request, 2 reply, 3 done
  long nr, args[6], ret;
  long regs[NGREG];
};
static struct shared *sh;
static int spin;

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static long futex(_Atomic int *a, int op, int v) { return syscall(SYS_futex, a, op, v, NULL, NULL, 0); }

static void on_sigsys(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ctx;
  greg_t *g = uc->uc_mcontext.gregs;
  memcpy(sh->regs, g, sizeof sh->regs);
  sh->nr = g[REG_RAX];
  sh->args[0] = g[REG_RDI];
  sh->args[1] = g[REG_RSI];
  sh->args[2] = g[REG_RDX];
  sh->args[3] = g[REG_R10];
  sh->args[4] = g[REG_R8];
  sh->args[5] = g[REG_R9];
  atomic_store(&sh->state, 1);
  futex(&sh->state, FUTEX_WAKE, 1);
  for (int i = 0; atomic_load(&sh->state) != 2; i++)
    if (!spin || i > 2000) futex(&sh->state, FUTEX_WAIT, 1);
  g[REG_RAX] = sh->ret;
  atomic_store(&sh->state, 0);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  spin = argc > 2;
  sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  pid_t pid = fork();
  if (pid == 0) {
    static char altstack[65536];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
    sigaltstack(&ss, NULL);
    struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    sigaction(SIGSYS, &sa, NULL);
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
    long sum = 0;
    for (int i = 0; i < n; i++) sum += syscall(SYS_getppid);
    atomic_store(&sh->state, 3);
    futex(&sh->state, FUTEX_WAKE, 1);
    _exit(sum == 42L * n ? 0 : 1);
  }
  double t0 = now_us();
  for (;;) {
    int s;
    for (int i = 0; (s = atomic_load(&sh->state)) != 1 && s != 3; i++)
      if (!spin || i > 2000) futex(&sh->state, FUTEX_WAIT, s);
    if (s == 3) break;
    sh->ret = sh->nr == SYS_getppid ? 42 : -38;
    atomic_store(&sh->state, 2);
    futex(&sh->state, FUTEX_WAKE, 1);
  }
  double t1 = now_us();
  int status;
  waitpid(pid, &status, 0);
  printf("systrap (SIGSYS + %s, registers copied): %.2f us/call%s\n", spin ? "spin" : "futex",
         (t1 - t0) / n, WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "" : " (child failed)");
  return 0;
}
