/* What a machine charges for the host operations a ptrace sandbox is made of, to read the
 * benchmarks of this directory against (README.md, seventeenth pass). Not a benchmark of
 * tsvisor: gcc -O2 -o machine-probe machine-probe.c && ./machine-probe
 * - ptrace calls on a stopped tracee pinned to this CPU (GETREGS, POKEUSER, SETREGS), the
 *   PTRACE_SYSEMU round trip, process_vm_readv/writev of 64 KiB and 4 KiB;
 * - a system call (getppid);
 * - a page fault on a fresh anonymous page, against MAP_POPULATE and MADV_POPULATE_WRITE. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static char buf[65536];

static void page_faults(void) {
  const size_t pages = 2048, n = pages * 4096;
  char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  double t0 = now_us();
  for (size_t i = 0; i < n; i += 4096) p[i] = 1;
  printf("page fault (first write to a fresh page)  %6.2f us/page\n", (now_us() - t0) / pages);
  munmap(p, n);
  t0 = now_us();
  p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  printf("mmap with MAP_POPULATE                    %6.2f us/page\n", (now_us() - t0) / pages);
  munmap(p, n);
  p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  t0 = now_us();
  int r = madvise(p, n, MADV_POPULATE_WRITE);
  if (r == 0) printf("madvise(MADV_POPULATE_WRITE)              %6.2f us/page\n", (now_us() - t0) / pages);
  munmap(p, n);
}

int main(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  sched_setaffinity(0, sizeof set, &set);
  pid_t c = fork();
  if (c == 0) {
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    for (;;) syscall(SYS_getppid);
  }
  int st;
  waitpid(c, &st, 0);
  ptrace(PTRACE_SETOPTIONS, c, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD);
  const int N = 20000;
  struct user_regs_struct r;
  double t0 = now_us();
  for (int i = 0; i < N; i++) ptrace(PTRACE_GETREGS, c, 0, &r);
  printf("PTRACE_GETREGS                            %6.2f us\n", (now_us() - t0) / N);
  t0 = now_us();
  for (int i = 0; i < N; i++)
    ptrace(PTRACE_POKEUSER, c, (void *)offsetof(struct user_regs_struct, rax), (void *)(long)i);
  printf("PTRACE_POKEUSER                           %6.2f us\n", (now_us() - t0) / N);
  t0 = now_us();
  for (int i = 0; i < N; i++) ptrace(PTRACE_SETREGS, c, 0, &r);
  printf("PTRACE_SETREGS                            %6.2f us\n", (now_us() - t0) / N);
  t0 = now_us();
  for (int i = 0; i < N; i++) syscall(SYS_getppid);
  printf("getppid                                   %6.2f us\n", (now_us() - t0) / N);
  struct iovec local = {buf, sizeof buf}, remote = {buf, sizeof buf};
  t0 = now_us();
  for (int i = 0; i < 2000; i++) process_vm_readv(c, &local, 1, &remote, 1, 0);
  printf("process_vm_readv 64 KiB                   %6.2f us\n", (now_us() - t0) / 2000);
  t0 = now_us();
  for (int i = 0; i < 2000; i++) process_vm_writev(c, &local, 1, &remote, 1, 0);
  printf("process_vm_writev 64 KiB                  %6.2f us\n", (now_us() - t0) / 2000);
  struct iovec l4 = {buf, 4096}, r4 = {buf, 4096};
  t0 = now_us();
  for (int i = 0; i < N; i++) process_vm_readv(c, &l4, 1, &r4, 1, 0);
  printf("process_vm_readv 4 KiB                    %6.2f us\n", (now_us() - t0) / N);
  ptrace(PTRACE_SYSEMU, c, 0, 0);
  waitpid(c, &st, 0);
  t0 = now_us();
  for (int i = 0; i < N; i++) {
    ptrace(PTRACE_SYSEMU, c, 0, 0);
    waitpid(c, &st, __WALL);
  }
  printf("PTRACE_SYSEMU round trip, same CPU        %6.2f us\n", (now_us() - t0) / N);
  kill(c, SIGKILL);
  waitpid(c, &st, 0);
  page_faults();
  return 0;
}
