/*
 * syscall-loop: the syscall-heavy part of the benchmark. Repeats one operation for about
 * BUDGET_MS milliseconds and prints the mean cost in microseconds per operation, then the count:
 *     <us per op> <ops>
 * Usage: syscall-loop getppid|open [BUDGET_MS]   (default 500; 0 exits at once, for startup)
 *   getppid: a raw getppid syscall (never cached by libc)
 *   open:    open, read 64 bytes, close a file it makes in /tmp (the sandbox's own /tmp)
 * Build: gcc -O1 -static -o syscall-loop syscall-loop.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
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

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  double budget_us = (argc > 2 ? atof(argv[2]) : 500) * 1000;
  int (*op)(void);
  if (strcmp(what, "getppid") == 0) {
    op = op_getppid;
  } else if (strcmp(what, "open") == 0) {
    op = op_open;
  } else {
    fprintf(stderr, "usage: syscall-loop getppid|open [BUDGET_MS]\n");
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
