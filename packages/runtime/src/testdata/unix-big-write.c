/* write(2) of buffers much larger than an AF_UNIX stream socket's send buffer, natively and
 * under tsvisor (unix-big-write.test.ts): a non-blocking socket takes what unix_stream_sendmsg
 * queues while its queued memory is below SO_SNDBUF (the counts and SIOCOUTQ are printed, for
 * several SO_SNDBUF sizes and after the peer drained part), then EAGAIN; a blocking writer of
 * 5 MiB buffers delivers every byte, in order, to a reader that drains slowly. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG (5 << 20)
static unsigned char out[BIG], in[1 << 16];

static long wr(int fd, long len) {
  long n = write(fd, out, len);
  return n < 0 ? -errno : n;
}

static int outq(int fd) {
  int q = -1;
  ioctl(fd, SIOCOUTQ, &q);
  return q;
}

static void nonblocking(int sndbuf) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) exit(2);
  if (sndbuf) setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  long a = wr(sv[0], BIG);
  int qa = outq(sv[0]);
  long b = wr(sv[0], BIG);
  long drained = read(sv[1], in, 50000);
  long c = wr(sv[0], BIG);
  int qc = outq(sv[0]);
  long d = wr(sv[0], 100);
  printf("sndbuf %d: write %ld outq %d, again %ld, drained %ld, write %ld outq %d, small %ld\n", sndbuf, a,
         qa, b, drained, c, qc, d);
  close(sv[0]);
  close(sv[1]);
}

int main(void) {
  for (long i = 0; i < BIG; i++) out[i] = (unsigned char)(i * 7 + (i >> 16));
  nonblocking(0);
  nonblocking(4608);
  nonblocking(65536);
  nonblocking(200000);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 2;
  const int rounds = 8;
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[1]);
    for (int r = 0; r < rounds; r++)
      for (long at = 0; at < BIG;) {
        long n = write(sv[0], out + at, BIG - at);
        if (n <= 0) _exit(3);
        at += n;
      }
    _exit(0);
  }
  close(sv[0]);
  long got = 0, bad = 0;
  for (;;) {
    long n = read(sv[1], in, sizeof in);
    if (n < 0) return 4;
    if (n == 0) break;
    for (long i = 0; i < n; i++)
      if (in[i] != out[(got + i) % BIG]) bad++;
    got += n;
  }
  int st;
  waitpid(pid, &st, 0);
  printf("blocking writer: received %ld of %ld, wrong bytes %ld, writer status %d\n", got, (long)rounds * BIG,
         bad, st);
  return 0;
}
