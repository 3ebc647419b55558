/* Which read/write calls Linux counts in /proc/self/io's syscr and syscw: one line per case,
   the name and the change of the counter. io-accounting.test.ts makes the same calls under
   tsvisor and compares. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

static long counter(int writes) {
  char buf[512];
  long v[4] = {0, 0, 0, 0};
  int fd = open("/proc/self/io", O_RDONLY);
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  sscanf(buf, "rchar: %ld\nwchar: %ld\nsyscr: %ld\nsyscw: %ld", &v[0], &v[1], &v[2], &v[3]);
  return writes ? v[3] : v[2];
}

/* The read of /proc/self/io counts itself after its snapshot: take it off syscr. */
#define CASE(name, writes, call)                                      \
  do {                                                                \
    long before = counter(writes);                                    \
    (void)(call);                                                     \
    printf("%s %ld\n", name, counter(writes) - before - !(writes));   \
  } while (0)

int main(void) {
  int p[2];
  char buf[16] = "hello world";
  struct iovec v = {buf, 4};
  /* volatile: the compiler must not see (and warn about) the bad pointers. */
  void *volatile kernel = (void *)0xffff800000000000UL;
  void *volatile low = (void *)1;
  if (pipe2(p, O_NONBLOCK) != 0) return 1;
  CASE("read-ebadf", 0, read(99, buf, 4));
  CASE("read-kernel-address", 0, read(p[0], kernel, 4));
  CASE("read-write-end", 0, read(p[1], buf, 4));
  CASE("read-eagain", 0, read(p[0], buf, 4));
  CASE("readv-ebadf", 0, readv(99, &v, 1));
  CASE("readv-bad-iovec", 0, readv(p[0], low, 1));
  CASE("pread-negative", 0, pread(p[0], buf, 4, -1));
  CASE("pread-espipe", 0, pread(p[0], buf, 4, 0));
  CASE("preadv-negative", 0, preadv(p[0], &v, 1, -1));
  CASE("write-ebadf", 1, write(99, buf, 4));
  CASE("write-kernel-address", 1, write(p[1], kernel, 4));
  CASE("write-fault", 1, write(p[1], low, 4));
  CASE("writev-ebadf", 1, writev(99, &v, 1));
  CASE("write", 1, write(p[1], buf, 11));
  CASE("read", 0, read(p[0], buf, 4));
  CASE("readv", 0, readv(p[0], &v, 1));
  return 0;
}
