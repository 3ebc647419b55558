/*
 * syscall-loop: the syscall-heavy part of the benchmark. Repeats one operation for about
 * BUDGET_MS milliseconds and prints the mean cost in microseconds per operation, then the count:
 *     <us per op> <ops>
 * Usage: syscall-loop getppid|open|compute [BUDGET_MS]   (default 500; 0 exits at once, for startup)
 *   getppid: a raw getppid syscall (never cached by libc)
 *   open:    open, read 64 bytes, close a file it makes in /tmp (the sandbox's own /tmp)
 *   compute: no loop; a forked process adds numbers for about BUDGET_MS / 2 with no system call,
 *            then two such processes run at once; prints "<us for one> <us for two at once>"
 *            (the same on a machine with two free CPUs, twice as long on one)
 * Build: gcc -O1 -static -o syscall-loop syscall-loop.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char path[64];

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int op_getppid(void) {
  syscall(SYS_getppid);
  return 0;
}

static int op_open(void) {
  char buf[128];
  int fd = open(path, O_RDONLY);
  if (fd < 0 || read(fd, buf, sizeof buf) != 64) {
    perror("syscall-loop: open/read");
    return -1;
  }
  close(fd);
  return 0;
}

/* Wall time of `procs` forked processes that each add `n` numbers; -1 if one failed. */
static double compute(int procs, long n) {
  double start = now_us();
  for (int p = 0; p < procs; p++) {
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
      volatile unsigned long x = 0;
      for (long i = 0; i < n; i++) x += (unsigned long)i;
      _exit(0);
    }
  }
  int status, bad = 0;
  while (wait(&status) > 0)
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) bad = 1;
  return bad ? -1 : now_us() - start;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  double budget_us = (argc > 2 ? atof(argv[2]) : 500) * 1000;
  int (*op)(void);
  if (strcmp(what, "getppid") == 0) {
    op = op_getppid;
  } else if (strcmp(what, "open") == 0) {
    op = op_open;
  } else if (strcmp(what, "compute") == 0) {
    if (budget_us <= 0) return 0;
    /* calibrate: about 1 ns per addition on these machines, then measure one and two */
    long n = (long)(budget_us / 2 * 1000);
    double one = compute(1, n), two = compute(2, n);
    if (one < 0 || two < 0) {
      fprintf(stderr, "syscall-loop: a computing child failed\n");
      return 1;
    }
    printf("%.0f %.0f\n", one, two);
    return 0;
  } else {
    fprintf(stderr, "usage: syscall-loop getppid|open|compute [BUDGET_MS]\n");
    return 2;
  }
  if (budget_us <= 0) return 0;
  if (op == op_open) {
    snprintf(path, sizeof path, "/tmp/tsvisor-bench-open.%d", (int)getpid());
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0 || write(fd, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 64) != 64) {
      perror("syscall-loop: create");
      return 1;
    }
    close(fd);
  }
  for (int i = 0; i < 16; i++) /* warm up */
    if (op() != 0) goto fail;
  long ops = 0;
  double start = now_us(), elapsed = 0;
  /* the clock is read once per 64 operations, so its own cost stays in the noise */
  while (elapsed < budget_us) {
    for (int i = 0; i < 64; i++)
      if (op() != 0) goto fail;
    ops += 64;
    elapsed = now_us() - start;
  }
  if (op == op_open) unlink(path);
  printf("%.4f %ld\n", elapsed / ops, ops);
  return 0;
fail:
  if (op == op_open) unlink(path);
  return 1;
}
