// User-buffer I/O against Linux: reads and writes whose buffer is NULL or runs into an unmapped
// page. Devices that never touch the buffer must not fault; a pipe must keep the bytes it could
// not deliver; a regular file's position moves only over what arrived. Also preadv/pwritev and
// their v2 forms. Run natively and under tsvisor: the output must be the same.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

// NULL through a volatile, so the compiler lets it reach the kernel.
static char *volatile nullp = NULL;

static void show(const char *what, long r) {
  if (r < 0)
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else
    printf("%s = %ld\n", what, r);
}

static int pending(int fd) {
  int n = -1;
  ioctl(fd, FIONREAD, &n);
  return n;
}

static void fill(char *p, int n, int seed) {
  for (int i = 0; i < n; i++) p[i] = (char)('a' + (seed + i) % 26);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  // Two mapped pages followed by an unmapped one: `edge` is the first unreachable byte.
  char *base = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(base + 2 * 4096, 4096);
  char *edge = base + 2 * 4096;
  char buf[8192];
  struct iovec nulliov = {NULL, 4};

  int dnull = open("/dev/null", O_RDWR);
  int dzero = open("/dev/zero", O_RDWR);
  int dfull = open("/dev/full", O_RDWR);
  show("write(/dev/null, NULL, 10)", write(dnull, nullp, 10));
  show("writev(/dev/null, {NULL, 4}, 1)", writev(dnull, &nulliov, 1));
  show("pwrite(/dev/null, NULL, 10, 0)", pwrite(dnull, nullp, 10, 0));
  show("read(/dev/null, NULL, 10)", read(dnull, nullp, 10));
  show("write(/dev/zero, NULL, 10)", write(dzero, nullp, 10));
  show("read(/dev/zero, NULL, 10)", read(dzero, nullp, 10));
  memset(edge - 200, 'x', 200);
  show("read(/dev/zero, edge-100, 300)", read(dzero, edge - 100, 300));
  printf("zeroed up to the edge: %d\n", edge[-1] == 0 && edge[-100] == 0 && edge[-101] == 'x');
  show("write(/dev/full, NULL, 10)", write(dfull, nullp, 10));
  show("write(/dev/full, buf, 0)", write(dfull, buf, 0));
  show("writev(/dev/full, {NULL, 4}, 1)", writev(dfull, &nulliov, 1));
  struct iovec empty = {buf, 0};
  show("writev(/dev/full, {buf, 0}, 1)", writev(dfull, &empty, 1));
  show("read(/dev/full, NULL, 10)", read(dfull, nullp, 10));

  // Pipes: what could not be copied out stays in the pipe.
  int p[2];
  pipe(p);
  fill(buf, 100, 0);
  write(p[1], buf, 100);
  show("pipe read(NULL, 100)", read(p[0], nullp, 100));
  printf("pipe still holds %d\n", pending(p[0]));
  show("pipe read(edge-50, 100)", read(p[0], edge - 50, 100));
  printf("pipe still holds %d\n", pending(p[0]));
  char got[100];
  show("pipe read(buf, 100)", read(p[0], got, 100));
  printf("bytes intact: %d\n", memcmp(got, buf, 100) == 0);
  // Two pipe pages (4096 + 100): the first arrives whole, the second faults part way.
  fill(buf, 4096, 1);
  write(p[1], buf, 4096);
  write(p[1], buf, 100);
  show("pipe read(edge-4146, 4196)", read(p[0], edge - 4146, 4196));
  printf("pipe still holds %d\n", pending(p[0]));
  printf("first page intact: %d\n", memcmp(edge - 4146, buf, 4096) == 0);
  show("pipe read(buf, 100)", read(p[0], got, 100));
  struct iovec split[2] = {{got, 10}, {NULL, 90}};
  write(p[1], buf, 100);
  show("pipe readv({buf, 10}, {NULL, 90})", readv(p[0], split, 2));
  printf("pipe still holds %d\n", pending(p[0]));
  read(p[0], got, 100);
  // Writes from a buffer that runs into the unmapped page.
  show("pipe write(NULL, 10)", write(p[1], nullp, 10));
  show("pipe write(edge-100, 200) into an empty pipe", write(p[1], edge - 100, 200));
  printf("pipe holds %d\n", pending(p[0]));
  write(p[1], buf, 10);
  show("pipe write(edge-100, 200) merging into a page", write(p[1], edge - 100, 200));
  printf("pipe holds %d\n", pending(p[0]));
  read(p[0], got, 100);
  show("pipe write(edge-8192+100, 8192)", write(p[1], edge - 8192 + 100, 8192));
  printf("pipe holds %d\n", pending(p[0]));
  close(p[0]);
  close(p[1]);

  // Stream sockets: a read into a bad buffer consumes nothing; the bytes stay queued and arrive
  // intact at the next good read. (A copy that faults part way through one write's bytes is
  // left out: Linux refuses the whole socket buffer there, tsvisor keeps the byte count.)
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  fill(buf, 100, 2);
  write(sv[0], buf, 100);
  show("unix stream read(NULL, 100)", read(sv[1], nullp, 100));
  printf("socket still holds %d\n", pending(sv[1]));
  struct iovec bad[2] = {{NULL, 10}, {got, 90}};
  show("unix stream readv({NULL, 10}, {buf, 90})", readv(sv[1], bad, 2));
  printf("socket still holds %d\n", pending(sv[1]));
  show("unix stream read(buf, 100)", read(sv[1], got, 100));
  printf("bytes intact: %d\n", memcmp(got, buf, 100) == 0);
  close(sv[0]);
  close(sv[1]);

  // A regular file in tmpfs (/dev/shm here and under tsvisor).
  int f = open("/dev/shm/tsvisor-user-io", O_RDWR | O_CREAT | O_TRUNC, 0600);
  unlink("/dev/shm/tsvisor-user-io");
  fill(buf, 8192, 2);
  show("file write(buf, 8192)", write(f, buf, 8192));
  lseek(f, 0, SEEK_SET);
  show("file read(edge-100, 300)", read(f, edge - 100, 300));
  show("file position", lseek(f, 0, SEEK_CUR));
  show("file read(NULL, 10)", read(f, nullp, 10));
  show("file position", lseek(f, 0, SEEK_CUR));
  show("file write(edge-100, 300)", write(f, edge - 100, 300));
  show("file position", lseek(f, 0, SEEK_CUR));
  show("file write(NULL, 10)", write(f, nullp, 10));

  // preadv/pwritev and the v2 forms.
  char a[4], b[6];
  struct iovec two[2] = {{a, 4}, {b, 6}};
  show("preadv(f, 10 bytes, 1000)", preadv(f, two, 2, 1000));
  printf("got %.4s|%.6s\n", a, b);
  show("preadv(f, -1)", preadv(f, two, 2, -1));
  show("preadv(f, -2)", preadv2(f, two, 2, -2, 0));
  lseek(f, 5, SEEK_SET);
  show("preadv2(f, -1: the position)", preadv2(f, two, 2, -1, 0));
  printf("got %.4s|%.6s\n", a, b);
  show("file position", lseek(f, 0, SEEK_CUR));
  show("preadv2(f, 0, RWF_HIPRI)", preadv2(f, two, 2, 0, RWF_HIPRI));
  show("preadv2(f, 0, RWF_NOWAIT) on tmpfs", preadv2(f, two, 2, 0, RWF_NOWAIT));
  show("preadv2(f, 0, 0x40 RWF_ATOMIC)", preadv2(f, two, 2, 0, 0x40));
  show("preadv2(f, 0, 0x200)", preadv2(f, two, 2, 0, 0x200));
  struct iovec none = {a, 0};
  show("preadv2(f, empty, 0x200)", preadv2(f, &none, 1, 0, 0x200));
  memcpy(a, "WXYZ", 4);
  memcpy(b, "123456", 6);
  show("pwritev(f, 10 bytes, 20)", pwritev(f, two, 2, 20));
  show("pwritev2(f, 10 bytes, 0, RWF_APPEND)", pwritev2(f, two, 2, 0, RWF_APPEND));
  show("file size", lseek(f, 0, SEEK_END));
  show("pwritev2(f, -1, RWF_APPEND)", pwritev2(f, two, 2, -1, RWF_APPEND));
  show("file position", lseek(f, 0, SEEK_CUR));
  show("pread(f, 10, 20)", pread(f, got, 10, 20));
  printf("got %.10s\n", got);
  show("pwritev(f, {NULL, 4}, 0)", pwritev(f, &nulliov, 1, 0));
  close(f);

  pipe(p);
  show("preadv(pipe, 0)", preadv(p[0], two, 2, 0));
  show("preadv2(pipe, -1, RWF_NOWAIT) empty", preadv2(p[0], two, 2, -1, RWF_NOWAIT));
  show("pwritev2(pipe, -1, 0)", pwritev2(p[1], two, 2, -1, 0));
  show("preadv2(pipe, -1, 0)", preadv2(p[0], two, 2, -1, 0));
  show("preadv2(/dev/null, 0, RWF_NOWAIT)", preadv2(dnull, two, 2, 0, RWF_NOWAIT));
  show("preadv2(/dev/full, 0, RWF_NOWAIT)", preadv2(dfull, two, 2, 0, RWF_NOWAIT));
  close(p[0]);
  signal(SIGPIPE, SIG_IGN);
  show("pwritev2(pipe without reader, -1, RWF_NOSIGNAL)", pwritev2(p[1], two, 2, -1, 0x100));
  show("preadv(99)", preadv(99, two, 2, 0));
  show("preadv(99, -1)", preadv(99, two, 2, -1));
  return 0;
}
