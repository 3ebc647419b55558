// The host side of socket-model.test.ts: reads one socket call per line from stdin, runs it on
// host sockets (all non-blocking, inside the test's own network namespace) and prints one line
// with the result or the errno name. Sockets are named by their index in order of creation.
//   socket FAM TYPE | bind I ANY PORT | listen I N | connect I PORT | accept I | send I N
//   recv I N | shutdown I HOW | close I | getsockopt I LEVEL NAME | setsockopt I LEVEL NAME V
//   name I | peer I | poll I
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXS 64
#define REQ (POLLIN | POLLOUT | POLLRDHUP)
static int fds[MAXS], fams[MAXS], n;

static void out(long r) {
  if (r >= 0) printf("%ld\n", r);
  else printf("%s\n", errno == EAGAIN ? "WOULD_BLOCK" : strerrorname_np(errno));
}
static int addr(int i, int any, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (fams[i] == AF_INET) {
    struct sockaddr_in *a = (void *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = any ? 0 : htonl(INADDR_LOOPBACK);
    return sizeof *a;
  }
  struct sockaddr_in6 *a = (void *)ss;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  if (!any) a->sin6_addr = in6addr_loopback;
  return sizeof *a;
}
static void name(int fd, int peer) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  if ((peer ? getpeername(fd, (void *)&ss, &l) : getsockname(fd, (void *)&ss, &l)) < 0) return out(-1);
  int port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  char ip[64];
  if (ss.ss_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof ip);
  else inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof ip);
  printf("%d %s %s\n", ss.ss_family, ip, port >= 32768 && port <= 60999 ? "eph" : port == 0 ? "0" : "fixed");
}

int main(void) {
  char line[256], op[32], buf[4096];
  memset(buf, 'x', sizeof buf);
  setvbuf(stdout, NULL, _IONBF, 0);
  while (fgets(line, sizeof line, stdin)) {
    int a = 0, b = 0, c = 0, d = 0;
    if (sscanf(line, "%31s %d %d %d %d", op, &a, &b, &c, &d) < 1) continue;
    int fd = (a >= 0 && a < n) ? fds[a] : -1;
    struct sockaddr_storage ss;
    if (!strcmp(op, "socket")) {
      int s = socket(a, b | SOCK_NONBLOCK, 0);
      if (s >= 0 && n < MAXS) { fds[n] = s; fams[n++] = a; }
      out(s < 0 ? -1 : 0);
    } else if (!strcmp(op, "bind")) {
      int l = addr(a, b, c, &ss);
      out(bind(fd, (void *)&ss, l));
    } else if (!strcmp(op, "listen")) out(listen(fd, b));
    else if (!strcmp(op, "connect")) {
      int l = addr(a, 0, b, &ss);
      out(connect(fd, (void *)&ss, l));
    } else if (!strcmp(op, "accept")) {
      int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK);
      if (s >= 0 && n < MAXS) { fds[n] = s; fams[n++] = fams[a]; }
      out(s < 0 ? -1 : 0);
    } else if (!strcmp(op, "send")) out(send(fd, buf, b, MSG_NOSIGNAL));
    else if (!strcmp(op, "recv")) out(recv(fd, buf, b, 0));
    else if (!strcmp(op, "shutdown")) out(shutdown(fd, b));
    else if (!strcmp(op, "close")) {
      out(close(fd));
      if (fd >= 0) fds[a] = -1;
    } else if (!strcmp(op, "getsockopt")) {
      int v = 0;
      socklen_t l = sizeof v;
      long r = getsockopt(fd, b, c, &v, &l);
      out(r < 0 ? r : v);
    } else if (!strcmp(op, "setsockopt")) out(setsockopt(fd, b, c, &d, sizeof d));
    else if (!strcmp(op, "name")) name(fd, 0);
    else if (!strcmp(op, "peer")) name(fd, 1);
    else if (!strcmp(op, "poll")) {
      struct pollfd p = {fd, REQ, 0};
      poll(&p, 1, 0);
      printf("%x\n", p.revents);
    } else printf("?\n");
    usleep(3000); // let the loopback deliver what the call set moving
  }
  return 0;
}
