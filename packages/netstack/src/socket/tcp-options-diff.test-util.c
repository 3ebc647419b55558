// The host kernel's answers for the TCP options netstack added: TCP_CONGESTION, SO_LINGER,
// TCP_CORK, TCP_QUICKACK, TCP_USER_TIMEOUT, TCP_INFO on fresh, listening and connected
// sockets, and a linger-0 close. Run in a private network namespace by tcp-options-diff.test.ts;
// prints one line per call, as the TypeScript side does.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *en(int e) {
  switch (e) {
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case ECONNRESET: return "ECONNRESET";
    case EAGAIN: return "WOULD_BLOCK";
    default: return "E?";
  }
}
static void r(const char *what, int rc) {
  if (rc < 0) printf("%s %s\n", what, en(errno));
  else printf("%s %d\n", what, rc);
}
static void geti(const char *what, int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) < 0) printf("%s %s\n", what, en(errno));
  else printf("%s %d len %d\n", what, v, (int)len);
}
static void seti(const char *what, int fd, int level, int name, int v, socklen_t len) {
  r(what, setsockopt(fd, level, name, &v, len));
}
// glibc's struct tcp_info is an old 104-byte prefix: ask for the 232 bytes of the Linux 6.1
// uapi layout netstack writes (the kernel copies min(len, its own size)).
static void info(const char *what, int fd) {
  unsigned char ti[512];
  memset(ti, 0xff, sizeof ti);
  socklen_t len = 232;
  if (getsockopt(fd, SOL_TCP, TCP_INFO, ti, &len) < 0) {
    printf("%s %s\n", what, en(errno));
    return;
  }
  printf("%s len %d state %d options %d\n", what, (int)len, ti[0], ti[5]);
}

int main(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  char name[32];
  socklen_t len = sizeof name;
  r("set congestion reno", setsockopt(s, SOL_TCP, TCP_CONGESTION, "reno", 4));
  memset(name, 0x55, sizeof name);
  len = sizeof name;
  getsockopt(s, SOL_TCP, TCP_CONGESTION, name, &len);
  printf("get congestion %s len %d\n", name, (int)len);
  len = 3;
  getsockopt(s, SOL_TCP, TCP_CONGESTION, name, &len);
  printf("get congestion short len %d\n", (int)len);
  r("set congestion cubic+nul", setsockopt(s, SOL_TCP, TCP_CONGESTION, "cubic\0xyz", 9));
  len = sizeof name;
  getsockopt(s, SOL_TCP, TCP_CONGESTION, name, &len);
  printf("get congestion %s\n", name);
  r("set congestion bogus", setsockopt(s, SOL_TCP, TCP_CONGESTION, "bogus", 5));
  r("set congestion empty", setsockopt(s, SOL_TCP, TCP_CONGESTION, "", 0));
  struct linger lg = {0, 0};
  len = sizeof lg;
  getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &len);
  printf("linger %d %d len %d\n", lg.l_onoff, lg.l_linger, (int)len);
  lg.l_onoff = 5;
  lg.l_linger = 7;
  r("set linger short", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, 4));
  r("set linger", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
  len = sizeof lg;
  getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &len);
  printf("linger %d %d len %d\n", lg.l_onoff, lg.l_linger, (int)len);
  geti("cork", s, SOL_TCP, TCP_CORK);
  seti("set cork", s, SOL_TCP, TCP_CORK, 1, 4);
  geti("cork", s, SOL_TCP, TCP_CORK);
  geti("quickack", s, SOL_TCP, TCP_QUICKACK);
  seti("set quickack 0", s, SOL_TCP, TCP_QUICKACK, 0, 4);
  geti("quickack", s, SOL_TCP, TCP_QUICKACK);
  geti("user_timeout", s, SOL_TCP, TCP_USER_TIMEOUT);
  seti("set user_timeout -1", s, SOL_TCP, TCP_USER_TIMEOUT, -1, 4);
  seti("set user_timeout 2500", s, SOL_TCP, TCP_USER_TIMEOUT, 2500, 4);
  seti("set user_timeout short", s, SOL_TCP, TCP_USER_TIMEOUT, 2500, 2);
  geti("user_timeout", s, SOL_TCP, TCP_USER_TIMEOUT);
  seti("set info", s, SOL_TCP, TCP_INFO, 1, 4);
  info("info fresh", s);

  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 4);
  info("info listener", l);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  r("connect", connect(c, (struct sockaddr *)&a, sizeof a));
  int srv = accept(l, NULL, NULL);
  info("info client", c);
  info("info server", srv);
  // Linger 0: close aborts with a RST, the peer's read fails with ECONNRESET.
  struct linger zero = {1, 0};
  r("set linger 0", setsockopt(c, SOL_SOCKET, SO_LINGER, &zero, sizeof zero));
  write(c, "abc", 3);
  usleep(20000);
  r("close", close(c));
  usleep(20000);
  char buf[8];
  r("server read", (int)read(srv, buf, sizeof buf));
  r("server read", (int)read(srv, buf, sizeof buf));
  info("info server after rst", srv);
  return 0;
}
