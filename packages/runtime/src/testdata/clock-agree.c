/*
 * The kernel's timestamps against the clock the program reads itself (the vDSO's
 * CLOCK_REALTIME): a UDP datagram's SO_TIMESTAMPNS must lie between a clock_gettime before the
 * send and one after the receive, as on Linux; so must the times stat(2) gives a file written
 * between two readings (in whole ns on tmpfs), and time(2) next to clock_gettime. ping compares
 * its send time (gettimeofday) with the receive timestamp and says "time of day goes back" when
 * the kernel's clock lags.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

int main(void) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  int one = 1;
  if (bind(s, (struct sockaddr *)&a, sizeof a) || getsockname(s, (struct sockaddr *)&a, &al) ||
      setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one)) {
    perror("socket");
    return 1;
  }
  int early = 0, late = 0, missing = 0;
  for (int i = 0; i < 200; i++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_REALTIME, &t0);
    sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
    char b[8], control[64];
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    if (recvmsg(s, &m, 0) != 1) return 1;
    clock_gettime(CLOCK_REALTIME, &t1);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_TIMESTAMPNS) {
      missing++;
      continue;
    }
    struct timespec st;
    memcpy(&st, CMSG_DATA(c), sizeof st);
    if (ns(st) < ns(t0)) early++;
    if (ns(st) > ns(t1)) late++;
  }
  printf("SO_TIMESTAMPNS before the send: %d, after the receive: %d, missing: %d (of 200)\n", early, late, missing);

  int back = 0;
  for (int i = 0; i < 200; i++) {
    struct timespec t0;
    clock_gettime(CLOCK_REALTIME, &t0);
    time_t t = time(NULL);
    if (t < t0.tv_sec) back++;
  }
  printf("time(2) behind clock_gettime: %d (of 200)\n", back);

  int stale = 0;
  for (int i = 0; i < 50; i++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_REALTIME, &t0);
    int fd = open("/tmp/clock-agree", O_CREAT | O_TRUNC | O_WRONLY, 0600);
    if (fd < 0 || write(fd, "x", 1) != 1) return 1;
    close(fd);
    clock_gettime(CLOCK_REALTIME, &t1);
    struct stat sb;
    stat("/tmp/clock-agree", &sb);
    /* tmpfs stamps with the coarse clock (ktime_get_coarse_real_ts64): up to a tick behind */
    if (ns(sb.st_mtim) > ns(t1)) stale++;
  }
  unlink("/tmp/clock-agree");
  printf("file mtime after the write returned: %d (of 50)\n", stale);
  return 0;
}
