// The socket ioctls that answer an int through their pointer (FIONREAD/SIOCINQ, SIOCOUTQ,
// SIOCATMARK) on loopback TCP and UDP sockets and on Unix socket pairs: the return value and the
// stored int.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, int fd, unsigned long req) {
  int v = -7;
  int r = ioctl(fd, req, &v);
  printf("%s: ret %d value %d%s%s\n", what, r, v, r < 0 ? " " : "", r < 0 ? strerror(errno) : "");
}

// SIOCOUTQ counts unacknowledged bytes: wait (at most 2 s) until the peer's ACK arrived.
static void wait_acked(int fd) {
  for (int i = 0; i < 200; i++) {
    int v = -1;
    if (ioctl(fd, SIOCOUTQ, &v) == 0 && v == 0) return;
    struct timespec d = {0, 10000000};
    nanosleep(&d, NULL);
  }
}

int main(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len)) {
    perror("listen");
    return 1;
  }
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr *)&a, sizeof a)) {
    perror("connect");
    return 1;
  }
  int s = accept(l, NULL, NULL);
  char buf[100];
  memset(buf, 'x', sizeof buf);
  if (write(c, buf, sizeof buf) != sizeof buf) return 1;
  wait_acked(c);
  show("tcp reader FIONREAD", s, FIONREAD);
  show("tcp reader SIOCINQ", s, SIOCINQ);
  show("tcp writer SIOCOUTQ", c, SIOCOUTQ);
  show("tcp reader SIOCATMARK", s, SIOCATMARK);
  show("tcp listener FIONREAD", l, FIONREAD);
  show("tcp listener SIOCOUTQ", l, SIOCOUTQ);
  show("tcp listener SIOCATMARK", l, SIOCATMARK);

  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in b = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  len = sizeof b;
  if (bind(u, (struct sockaddr *)&b, sizeof b) || getsockname(u, (struct sockaddr *)&b, &len)) return 1;
  if (sendto(u, buf, 40, 0, (struct sockaddr *)&b, sizeof b) != 40) return 1;
  struct timespec d = {0, 20000000};
  nanosleep(&d, NULL);
  show("udp FIONREAD", u, FIONREAD);
  show("udp SIOCOUTQ", u, SIOCOUTQ);
  show("udp SIOCATMARK", u, SIOCATMARK);

  // Unix sockets: SIOCOUTQ is left out, Linux counts skb memory there (768 for these 30 bytes).
  const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  const char *names[] = {"unix stream", "unix dgram", "unix seqpacket"};
  for (int i = 0; i < 3; i++) {
    int sv[2];
    if (socketpair(AF_UNIX, types[i], 0, sv)) return 1;
    if (write(sv[0], buf, 30) != 30) return 1;
    char what[64];
    snprintf(what, sizeof what, "%s FIONREAD", names[i]);
    show(what, sv[1], FIONREAD);
    snprintf(what, sizeof what, "%s SIOCATMARK", names[i]);
    show(what, sv[1], SIOCATMARK);
  }
  return 0;
}
