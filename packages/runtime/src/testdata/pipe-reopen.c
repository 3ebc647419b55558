/* Reopening an anonymous pipe through /proc/self/fd/N (what open("/dev/stdin") does when stdin is
 * a pipe), against a named FIFO. Linux's fifo_open waits for the peer, or fails with ENXIO, only
 * for a FIFO: a pipe's reopen never waits, even when its other end is closed for good.
 * (CPython's test_asyncio.test_subprocess test_devstdin_input: a child opens /dev/stdin after
 * its parent wrote and closed the pipe; under tsvisor the open waited forever.)
 * Usage: pipe-reopen DIR (a writable directory for the FIFO). alarm() ends a hang. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *res(long r) {
  static char buf[64];
  if (r >= 0)
    snprintf(buf, sizeof buf, "%ld", r);
  else
    snprintf(buf, sizeof buf, "-1 %s", strerrorname_np(errno));
  return buf;
}

/* open() of /proc/self/fd/<fd> with `flags`: the new fd, or -1 (printed). */
static int reopen(const char *what, int fd, int flags) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int r = open(path, flags);
  printf("%s: open = %s\n", what, r < 0 ? res(r) : "ok");
  return r;
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  setvbuf(stdout, NULL, _IONBF, 0);
  signal(SIGPIPE, SIG_IGN);
  alarm(10);
  char buf[16];
  int p[2];

  /* The writer is gone: the reopened read end reads what is buffered, then EOF. */
  pipe(p);
  write(p[1], "abc", 3);
  close(p[1]);
  int r = reopen("read end, writer closed", p[0], O_RDONLY);
  if (r >= 0) {
    printf("  read = %s\n", res(read(r, buf, sizeof buf)));
    printf("  read = %s\n", res(read(r, buf, sizeof buf)));
    close(r);
  }
  close(p[0]);

  /* The reader is gone: the reopened write end opens (no ENXIO, no wait), and writes get EPIPE. */
  pipe(p);
  close(p[0]);
  int w = reopen("write end, reader closed, O_NONBLOCK", p[1], O_WRONLY | O_NONBLOCK);
  if (w >= 0) {
    printf("  write = %s\n", res(write(w, "x", 1)));
    close(w);
  }
  w = reopen("write end, reader closed", p[1], O_WRONLY);
  if (w >= 0) close(w);
  close(p[1]);

  /* Both ends open: a read end made from the write end's link sees the original writer's data. */
  pipe(p);
  r = reopen("write end as O_RDONLY", p[1], O_RDONLY);
  if (r >= 0) {
    write(p[1], "hello", 5);
    printf("  read = %s\n", res(read(r, buf, sizeof buf)));
    close(r);
  }
  close(p[0]);
  close(p[1]);

  /* test_devstdin_input: a child opens /dev/stdin, a pipe its parent already wrote and closed. */
  pipe(p);
  write(p[1], "abc", 3);
  close(p[1]);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[0], 0);
    close(p[0]);
    int fd = open("/dev/stdin", O_RDONLY);
    printf("child: open /dev/stdin = %s\n", fd < 0 ? res(fd) : "ok");
    if (fd >= 0) printf("child: read = %s\n", res(read(fd, buf, sizeof buf)));
    _exit(0);
  }
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  printf("child exit status %d\n", status);

  /* A named FIFO keeps the POSIX rules: no reader means ENXIO for O_WRONLY|O_NONBLOCK. */
  char fifo[4096];
  snprintf(fifo, sizeof fifo, "%s/pipe-reopen.fifo", argv[1]);
  unlink(fifo);
  printf("mkfifo = %s\n", res(mkfifo(fifo, 0600)));
  printf("fifo O_WRONLY|O_NONBLOCK, no reader: open = %s\n", res(open(fifo, O_WRONLY | O_NONBLOCK)));
  r = open(fifo, O_RDONLY | O_NONBLOCK);
  printf("fifo O_RDONLY|O_NONBLOCK: open = %s\n", r < 0 ? res(r) : "ok");
  w = reopen("fifo reader's link as O_WRONLY|O_NONBLOCK", r, O_WRONLY | O_NONBLOCK);
  if (w >= 0) close(w);
  close(r);
  unlink(fifo);
  return 0;
}
