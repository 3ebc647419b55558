/* Shared by the C halves of netstack's differential tests (see host-diff.test-util.ts): the poll
 * bits they ask for, results printed as netstack's TypeScript twins print them, addresses and
 * socket names. */
#ifndef HOST_DIFF_TEST_UTIL_H
#define HOST_DIFF_TEST_UTIL_H
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ (POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | POLLRDHUP)
#define SA(x) ((struct sockaddr *)&(x))
/* Long enough for loopback segments and timers of a few ms to run (netstack: 20 virtual ms). */
#define WAIT usleep(20000)

/* The count, or the errno's name (EAGAIN as WOULD_BLOCK, netstack's name for it). */
__attribute__((unused)) static const char *res(long r) {
  static char buf[64];
  if (r >= 0) {
    snprintf(buf, sizeof buf, "%ld", r);
    return buf;
  }
  const char *n = strerrorname_np(errno);
  if (errno == EAGAIN) n = "WOULD_BLOCK";
  snprintf(buf, sizeof buf, "%s", n ? n : "?");
  return buf;
}
/* An IPv4 socket address (bind-device.test-util.h has the same, under the same guard). */
#ifndef TEST_UTIL_SA
#define TEST_UTIL_SA
__attribute__((unused)) static struct sockaddr_in sa(const char *ip, int port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}
#endif

/* getsockname/getpeername of `fd` as "<what> <ip>:eph|0|fixed", or the errno. */
__attribute__((unused)) static void name(const char *what, int fd, int peer) {
  struct sockaddr_in a;
  socklen_t l = sizeof a;
  int r = peer ? getpeername(fd, SA(a), &l) : getsockname(fd, SA(a), &l);
  if (r < 0) {
    printf("%s %s\n", what, res(r));
    return;
  }
  char ip[32];
  inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
  int port = ntohs(a.sin_port);
  printf("%s %s:%s\n", what, ip, port >= 32768 && port <= 60999 ? "eph" : (port == 0 ? "0" : "fixed"));
}

/* "<what> poll <revents>" for the bits REQ asks. */
__attribute__((unused)) static void show_poll(const char *what, int fd) {
  struct pollfd p = {fd, REQ, 0};
  poll(&p, 1, 0);
  printf("%s poll %x\n", what, p.revents);
}
/* "<what> so_error <errno name or 0>" (reading SO_ERROR clears it). */
__attribute__((unused)) static void show_soerror(const char *what, int fd) {
  int v = 0;
  socklen_t l = sizeof v;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &l);
  printf("%s so_error %s\n", what, v ? strerrorname_np(v) : "0");
}
/* "<what> recv <count or errno>" of one recv(2) of up to 16 bytes. */
__attribute__((unused)) static void show_recv(const char *what, int fd) {
  char buf[16];
  printf("%s recv %s\n", what, res(recv(fd, buf, sizeof buf, 0)));
}
/* A non-blocking TCP listener on 127.0.0.1:port (SO_REUSEADDR, backlog 8). */
__attribute__((unused)) static int tcp_listener(int port) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = sa("127.0.0.1", port);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bind(l, SA(a), sizeof a);
  listen(l, 8);
  return l;
}
/* A connected non-blocking pair on 127.0.0.1:port: *c the client, *a the accepted end, *l the
 * listener. */
__attribute__((unused)) static void tcp_pair(int port, int *c, int *a, int *l) {
  *l = tcp_listener(port);
  *c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in p = sa("127.0.0.1", port);
  connect(*c, SA(p), sizeof p);
  WAIT;
  *a = accept4(*l, NULL, NULL, SOCK_NONBLOCK);
}
/* "<what> proc <n> <states>": how many /proc/net/tcp lines have local port `port`, and their
 * states (hex, as the file prints them). */
__attribute__((unused)) static void show_proc_tcp(const char *what, int port) {
  FILE *f = fopen("/proc/net/tcp", "r");
  char line[512];
  int n = 0;
  char states[64] = "";
  if (!f || !fgets(line, sizeof line, f)) {
    printf("%s proc ?\n", what);
    if (f) fclose(f);
    return;
  }
  while (fgets(line, sizeof line, f)) {
    unsigned lport, st;
    if (sscanf(line, " %*d: %*x:%x %*x:%*x %x", &lport, &st) != 2) continue;
    if ((int)lport != port) continue;
    n++;
    snprintf(states + strlen(states), sizeof states - strlen(states), " %02X", st);
  }
  fclose(f);
  printf("%s proc %d%s\n", what, n, states);
}
#endif
