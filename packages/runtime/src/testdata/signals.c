/*
 * Signals, faults and stack growth without libc. argv[1] picks the case; the exit status (or
 * the signal that kills it) is the result, and "ok ..." lines go to stdout.
 *   handler  SIGUSR1 sent to itself runs a handler (SA_RESTORER), which returns through
 *            rt_sigreturn; xmm0 and a callee-saved register survive; exit 0.
 *   segv     a store to address 0: killed by SIGSEGV.
 *   segvh    the same with a SIGSEGV handler that exits 42.
 *   kill9    kill(getpid(), SIGKILL): killed by SIGKILL.
 *   stack    recursion that touches 4 MiB of stack (growth below the initial stack): exit 0.
 *   blocked  SIGUSR1 blocked, sent, then unblocked: the handler runs at the unblock; exit 0.
 *   unmap    munmap and mprotect of the pages at the top of user space (where tsvisor keeps
 *            its stub) and a mmap over them (EPERM under tsvisor, whose model seals the stub);
 *            the program goes on: exit 0 (natively too).
 *   spin     a forked child spins without syscalls; the parent's SIGUSR1 must still reach it:
 *            its handler exits 7, and the parent exits with the child's status (7).
 */
#define SYS_write 1
#define SYS_rt_sigaction 13
#define SYS_rt_sigprocmask 14
#define SYS_getpid 39
#define SYS_kill 62
#define SYS_exit_group 231
#define SYS_clone 56
#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_munmap 11
#define SYS_wait4 61
#define SIGCHLD 17
#define SIGKILL 9
#define SIGUSR1 10
#define SIGSEGV 11
#define SA_RESTORER 0x04000000
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1

static long sys4(long n, long a, long b, long c, long d) {
  long r;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return r;
}

static int streq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

static long len(const char *s) {
  long n = 0;
  while (s[n]) n++;
  return n;
}

static void say(const char *s) { sys4(SYS_write, 1, (long)s, len(s), 0); }

struct kernel_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  unsigned long mask;
};

void restorer(void);
__asm__(".globl restorer\nrestorer:\n mov $15, %eax\n syscall\n hlt\n");

static volatile int hits;

static void on_usr1(int sig) {
  hits += sig == SIGUSR1;
  /* Clobber xmm0: the interrupted code's value must come back from the signal frame. */
  __asm__ volatile("pcmpeqd %%xmm0, %%xmm0" ::: "xmm0");
  say("ok handler ran\n");
}

static void on_segv(int sig) {
  say("ok segv handled\n");
  sys4(SYS_exit_group, sig == SIGSEGV ? 42 : 1, 0, 0, 0);
}

static void handle(int sig, void (*fn)(int)) {
  struct kernel_sigaction act = {fn, SA_RESTORER, restorer, 0};
  sys4(SYS_rt_sigaction, sig, (long)&act, 0, 8);
}

static long depth(long n) {
  volatile char page[4096];
  page[0] = (char)n;
  page[4095] = (char)n;
  return n == 0 ? page[0] : depth(n - 1) + page[4095] - (char)n + 1;
}

static int case_handler(void) {
  handle(SIGUSR1, on_usr1);
  unsigned long long before = 0x1122334455667788ull, after = 0;
  __asm__ volatile("movq %0, %%xmm0" ::"r"(before) : "xmm0");
  register long keep __asm__("rbx") = 0x5eed;
  __asm__ volatile("" : "+r"(keep));
  sys4(SYS_kill, sys4(SYS_getpid, 0, 0, 0, 0), SIGUSR1, 0, 0);
  __asm__ volatile("" : "+r"(keep));
  __asm__ volatile("movq %%xmm0, %0" : "=r"(after));
  if (hits != 1) return 1;
  if (after != before) return 2;
  if (keep != 0x5eed) return 3;
  say("ok registers restored\n");
  return 0;
}

static void on_usr1_exit(int sig) { sys4(SYS_exit_group, sig == SIGUSR1 ? 7 : 1, 0, 0, 0); }

static int case_spin(void) {
  handle(SIGUSR1, on_usr1_exit);
  long pid = sys4(SYS_clone, SIGCHLD, 0, 0, 0);
  if (pid == 0) {
    for (volatile unsigned long i = 0;; i++) {}
  }
  if (pid < 0) return 2;
  sys4(SYS_kill, pid, SIGUSR1, 0, 0);
  int status = 0;
  if (sys4(SYS_wait4, pid, (long)&status, 0, 0) != pid) return 3;
  return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 4;
}

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long r;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return r;
}

static int case_unmap(void) {
  const long top = 0x7ffffff00000;
  sys4(SYS_munmap, top, 0x2000, 0, 0);
  sys4(SYS_mprotect, top, 0x2000, 0, 0);
  long r = sys6(SYS_mmap, top, 0x2000, 3, 0x32 /* PRIVATE|FIXED|ANON */, -1, 0);
  /* Natively the pages are free; tsvisor reserves them as sealed pages: -EPERM, as for mseal. */
  if (r != top && r != -1 /* -EPERM */) return 1;
  if (r == top) sys4(SYS_munmap, top, 0x2000, 0, 0);
  say("ok still running\n");
  return 0;
}

static int case_blocked(void) {
  handle(SIGUSR1, on_usr1);
  unsigned long set = 1ul << (SIGUSR1 - 1);
  sys4(SYS_rt_sigprocmask, SIG_BLOCK, (long)&set, 0, 8);
  sys4(SYS_kill, sys4(SYS_getpid, 0, 0, 0, 0), SIGUSR1, 0, 0);
  if (hits != 0) return 1;
  sys4(SYS_rt_sigprocmask, SIG_UNBLOCK, (long)&set, 0, 8);
  return hits == 1 ? 0 : 2;
}

__attribute__((used)) static void start_c(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  const char *mode = argc > 1 ? argv[1] : "";
  int status = 100;
  if (streq(mode, "handler")) status = case_handler();
  else if (streq(mode, "blocked")) status = case_blocked();
  else if (streq(mode, "spin")) status = case_spin();
  else if (streq(mode, "unmap")) status = case_unmap();
  else if (streq(mode, "segv")) *(volatile int *)0 = 1;
  else if (streq(mode, "segvh")) {
    handle(SIGSEGV, on_segv);
    *(volatile int *)0 = 1;
  } else if (streq(mode, "kill9")) sys4(SYS_kill, sys4(SYS_getpid, 0, 0, 0, 0), SIGKILL, 0, 0);
  else if (streq(mode, "stack")) status = depth(1024) == 1024 ? 0 : 1;
  sys4(SYS_exit_group, status, 0, 0, 0);
  for (;;) {}
}

__asm__(".globl _start\n_start:\n mov %rsp, %rdi\n and $-16, %rsp\n call start_c\n hlt\n");
