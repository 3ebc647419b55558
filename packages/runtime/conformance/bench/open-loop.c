/*
 * open-loop: creates a 64-byte file in /tmp (inside the sandbox's own /tmp when sandboxed), then
 * opens, reads and closes it repeatedly for about BUDGET_MS milliseconds and prints the mean
 * cost in microseconds per iteration, then the number of iterations:
 *     <us per iteration> <iterations>
 * Usage: open-loop [BUDGET_MS]   (default 500)
 * Build: gcc -O1 -static -o open-loop open-loop.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  double budget_us = (argc > 1 ? atof(argv[1]) : 500) * 1000;
  char path[64], buf[128];
  snprintf(path, sizeof path, "/tmp/tsvisor-bench-open.%d", (int)getpid());
  int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
  if (fd < 0 || write(fd, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 64) != 64) {
    perror("open-loop: create");
    return 1;
  }
  close(fd);
  long iterations = 0;
  double start = now_us(), elapsed = 0;
  while (elapsed < budget_us) {
    for (int i = 0; i < 16; i++) {
      fd = open(path, O_RDONLY);
      if (fd < 0 || read(fd, buf, sizeof buf) != 64) {
        perror("open-loop: open/read");
        unlink(path);
        return 1;
      }
      close(fd);
    }
    iterations += 16;
    elapsed = now_us() - start;
  }
  unlink(path);
  printf("%.4f %ld\n", elapsed / iterations, iterations);
  return 0;
}
