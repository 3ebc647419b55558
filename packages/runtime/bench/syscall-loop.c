/*
 * The syscall-heavy part of the benchmark: `getppid N` makes N getppid calls, `open N` N
 * open/read/close of a small file; prints the mean time per iteration in microseconds.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "getppid";
  long n = argc > 2 ? atol(argv[2]) : 10000;
  const char *file = argc > 3 ? argv[3] : "/etc/hostname";
  char buf[256];
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    if (strcmp(what, "getppid") == 0) {
      syscall(SYS_getppid);
    } else {
      int fd = open(file, O_RDONLY);
      if (fd < 0 || read(fd, buf, sizeof buf) < 0) return 1;
      close(fd);
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.3f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n / 1000.0);
  return 0;
}
