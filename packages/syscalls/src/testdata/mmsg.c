// sendmmsg/recvmmsg conformance: prints one line per check; the same program runs natively and
// under tsvisor and both must print mmsg.expected.txt.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BAD ((void *)16)

static void show(const char *what, int r) {
  if (r < 0)
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else
    printf("%s = %d\n", what, r);
}

static char bufs[8][64];
static struct iovec iovs[8];
static struct mmsghdr vec[8];

/** Points entry i at bufs[i] with room for `room` bytes and no name or control. */
static void prep(int n, int room) {
  memset(vec, 0, sizeof vec);
  memset(bufs, 0, sizeof bufs);
  for (int i = 0; i < n; i++) {
    iovs[i].iov_base = bufs[i];
    iovs[i].iov_len = room;
    vec[i].msg_hdr.msg_iov = &iovs[i];
    vec[i].msg_hdr.msg_iovlen = 1;
    vec[i].msg_len = 0xdead;
  }
}

static void outgoing(int n) {
  prep(n, 0);
  for (int i = 0; i < n; i++) iovs[i].iov_len = (size_t)snprintf(bufs[i], sizeof bufs[i], "message-%d", i);
}

static void lens(int n) {
  printf("  lens:");
  for (int i = 0; i < n; i++) printf(" %u", vec[i].msg_len);
  printf("\n");
}

static void got(int n) {
  printf("  got:");
  for (int i = 0; i < n; i++) printf(" %.*s%s", (int)vec[i].msg_len, bufs[i], vec[i].msg_hdr.msg_flags & MSG_TRUNC ? "(trunc)" : "");
  printf("\n");
}

int main(void) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) return 1;

  outgoing(3);
  show("sendmmsg 3 on a dgram pair", sendmmsg(sv[0], vec, 3, 0));
  lens(3);
  prep(5, 64);
  show("recvmmsg 5 DONTWAIT", recvmmsg(sv[1], vec, 5, MSG_DONTWAIT, NULL));
  got(3);
  printf("  untouched: %u\n", vec[3].msg_len);
  show("recvmmsg on empty DONTWAIT", recvmmsg(sv[1], vec, 5, MSG_DONTWAIT, NULL));

  outgoing(2);
  show("sendmmsg 2", sendmmsg(sv[0], vec, 2, 0));
  prep(4, 64);
  show("recvmmsg 4 WAITFORONE", recvmmsg(sv[1], vec, 4, MSG_WAITFORONE, NULL));
  got(2);

  outgoing(3);
  show("sendmmsg vlen 0", sendmmsg(sv[0], vec, 0, 0));
  iovs[1].iov_base = BAD;
  show("sendmmsg with a bad second iovec", sendmmsg(sv[0], vec, 3, 0));
  lens(3);
  outgoing(1);
  iovs[0].iov_base = BAD;
  show("sendmmsg with a bad first iovec", sendmmsg(sv[0], vec, 1, 0));
  show("sendmmsg bad vector", sendmmsg(sv[0], BAD, 1, 0));
  show("sendmmsg bad fd", sendmmsg(99, vec, 1, 0));
  int null = open("/dev/null", O_RDWR);
  show("sendmmsg not a socket", sendmmsg(null, vec, 1, 0));
  show("recvmmsg not a socket", recvmmsg(null, vec, 1, 0, NULL));
  prep(2, 64);
  show("recvmmsg drains the one", recvmmsg(sv[1], vec, 2, MSG_DONTWAIT, NULL));
  got(1);

  struct timespec ts = {0, 1000000000};
  show("recvmmsg nsec 1e9", recvmmsg(sv[1], vec, 2, MSG_DONTWAIT, &ts));
  ts.tv_sec = -1;
  ts.tv_nsec = 0;
  show("recvmmsg negative timeout", recvmmsg(sv[1], vec, 2, MSG_DONTWAIT, &ts));
  show("recvmmsg bad timeout pointer", recvmmsg(sv[1], vec, 2, MSG_DONTWAIT, BAD));
  ts.tv_sec = -1;
  show("recvmmsg bad fd, bad timeout", recvmmsg(99, vec, 2, 0, &ts));
  show("recvmmsg bad fd, bad timeout pointer", recvmmsg(99, vec, 2, 0, BAD));
  show("recvmmsg bad fd", recvmmsg(99, vec, 2, 0, NULL));
  show("recvmmsg MSG_CMSG_COMPAT", recvmmsg(sv[1], vec, 2, (int)0x80000000u, NULL));

  outgoing(3);
  sendmmsg(sv[0], vec, 3, 0);
  ts.tv_sec = 0;
  ts.tv_nsec = 0;
  prep(4, 64);
  show("recvmmsg zero timeout, 3 queued", recvmmsg(sv[1], vec, 4, 0, &ts));
  printf("  timeout left: %ld %ld\n", (long)ts.tv_sec, ts.tv_nsec);
  ts.tv_sec = 5;
  prep(4, 64);
  show("recvmmsg 5 s timeout, WAITFORONE, 2 queued", recvmmsg(sv[1], vec, 4, MSG_WAITFORONE, &ts));
  printf("  timeout left in (4, 5]: %d\n", ts.tv_sec == 4 || (ts.tv_sec == 5 && ts.tv_nsec == 0));
  ts.tv_sec = 7;
  ts.tv_nsec = 5;
  show("recvmmsg timeout, nothing queued", recvmmsg(sv[1], vec, 4, MSG_DONTWAIT, &ts));
  printf("  timeout kept: %ld %ld\n", (long)ts.tv_sec, ts.tv_nsec);

  outgoing(1);
  iovs[0].iov_len = 40;
  memset(bufs[0], 'x', 40);
  sendmmsg(sv[0], vec, 1, 0);
  prep(1, 8);
  show("recvmmsg into a short buffer", recvmmsg(sv[1], vec, 1, MSG_DONTWAIT, NULL));
  got(1);
  outgoing(1);
  iovs[0].iov_len = 40;
  sendmmsg(sv[0], vec, 1, 0);
  prep(1, 8);
  show("recvmmsg MSG_TRUNC", recvmmsg(sv[1], vec, 1, MSG_DONTWAIT | MSG_TRUNC, NULL));
  lens(1);

  // UDP on loopback: per-message destinations and source addresses.
  int u = socket(AF_INET, SOCK_DGRAM, 0), v = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  bind(u, (struct sockaddr *)&a, sizeof a);
  getsockname(u, (struct sockaddr *)&a, &al);
  struct sockaddr_in b = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t bl = sizeof b;
  bind(v, (struct sockaddr *)&b, sizeof b);
  getsockname(v, (struct sockaddr *)&b, &bl);
  outgoing(4);
  for (int i = 0; i < 4; i++) {
    vec[i].msg_hdr.msg_name = &a;
    vec[i].msg_hdr.msg_namelen = sizeof a;
  }
  show("udp sendmmsg 4 with addresses", sendmmsg(v, vec, 4, 0));
  lens(4);
  struct sockaddr_in from[4];
  prep(4, 64);
  for (int i = 0; i < 4; i++) {
    vec[i].msg_hdr.msg_name = &from[i];
    vec[i].msg_hdr.msg_namelen = sizeof from[i];
  }
  show("udp recvmmsg 4 WAITFORONE", recvmmsg(u, vec, 4, MSG_WAITFORONE, NULL));
  got(4);
  int same = 1;
  for (int i = 0; i < 4; i++)
    same &= vec[i].msg_hdr.msg_namelen == sizeof b && from[i].sin_port == b.sin_port &&
            from[i].sin_addr.s_addr == b.sin_addr.s_addr;
  printf("  sources are the sender: %d\n", same);
  outgoing(1);
  show("udp sendmmsg without an address", sendmmsg(v, vec, 1, 0));

  // A stream pair: a 0-byte read at end of file counts as a message.
  int st[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, st);
  outgoing(2);
  show("stream sendmmsg 2", sendmmsg(st[0], vec, 2, 0));
  close(st[0]);
  prep(3, 64);
  show("stream recvmmsg 3 after close", recvmmsg(st[1], vec, 3, 0, NULL));
  lens(3);
  return 0;
}
