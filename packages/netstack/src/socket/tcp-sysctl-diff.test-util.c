// net.ipv4.tcp_keepalive_time/intvl/probes and tcp_fin_timeout against TCP_KEEPIDLE/INTVL/CNT
// and TCP_LINGER2, on the host kernel (run as root in a fresh network namespace): what sockets
// report before and after a sysctl change, and how long an orphaned FIN_WAIT_2 lasts.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "host-diff.test-util.h"

static void sysctl(const char *name, int v) {
  char path[128];
  snprintf(path, sizeof path, "/proc/sys/net/ipv4/%s", name);
  FILE *f = fopen(path, "w");
  fprintf(f, "%d", v);
  fclose(f);
}
static void opts(const char *what, int s) {
  int v[4];
  int names[4] = {TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_LINGER2};
  for (int i = 0; i < 4; i++) {
    socklen_t l = sizeof v[i];
    getsockopt(s, IPPROTO_TCP, names[i], &v[i], &l);
  }
  printf("%s keepidle %d keepintvl %d keepcnt %d linger2 %d\n", what, v[0], v[1], v[2], v[3]);
}
static int setopt(int s, int name, int v) { return setsockopt(s, IPPROTO_TCP, name, &v, sizeof v); }
static int local_port(int s) {
  struct sockaddr_in a;
  socklen_t l = sizeof a;
  getsockname(s, SA(a), &l);
  return ntohs(a.sin_port);
}
// The state /proc/net/tcp shows for the connection from local port `port` to `peer`, or none.
static void state(const char *what, int port, int peer) {
  FILE *f = fopen("/proc/net/tcp", "r");
  char line[512];
  const char *st = "none";
  static char found[8];
  fgets(line, sizeof line, f);
  while (fgets(line, sizeof line, f)) {
    unsigned lp, rp, s;
    if (sscanf(line, " %*d: %*8x:%x %*8x:%x %x", &lp, &rp, &s) != 3) continue;
    if ((int)lp == port && (int)rp == peer) {
      snprintf(found, sizeof found, "%02X", s);
      st = found;
    }
  }
  fclose(f);
  printf("%s %s\n", what, st);
}
// A connection to the listener `l` on `port`: the client fd, the accepted fd in *server.
static int pair(int l, int port, int *server) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = sa("127.0.0.1", port);
  connect(c, SA(a), sizeof a);
  *server = accept(l, NULL, NULL);
  return c;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IONBF, 0);
  int early = socket(AF_INET, SOCK_STREAM, 0);
  opts("defaults", early);
  sysctl("tcp_keepalive_time", 30);
  sysctl("tcp_keepalive_intvl", 5);
  sysctl("tcp_keepalive_probes", 4);
  sysctl("tcp_fin_timeout", 7);
  opts("existing socket", early);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  opts("new socket", s);
  printf("set keepidle 100 %s\n", res(setopt(s, TCP_KEEPIDLE, 100)));
  printf("set keepcnt 2 %s\n", res(setopt(s, TCP_KEEPCNT, 2)));
  printf("set linger2 -5 %s\n", res(setopt(s, TCP_LINGER2, -5)));
  opts("after set", s);
  sysctl("tcp_keepalive_time", 40);
  sysctl("tcp_keepalive_probes", 6);
  opts("after set and sysctl", s);
  printf("set linger2 500 %s\n", res(setopt(s, TCP_LINGER2, 500)));
  opts("linger2 500", s);
  printf("set linger2 50 %s\n", res(setopt(s, TCP_LINGER2, 50)));
  opts("linger2 50", s);
  printf("set linger2 0 %s\n", res(setopt(s, TCP_LINGER2, 0)));
  opts("linger2 0", s);
  close(s);
  close(early);

  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in la = sa("127.0.0.1", 7300);
  bind(l, SA(la), sizeof la);
  listen(l, 8);
  printf("set listener linger2 9 %s\n", res(setopt(l, TCP_LINGER2, 9)));
  int srv;
  int c = pair(l, 7300, &srv);
  opts("accepted", srv);
  close(c);
  close(srv);
  WAIT;

  // An orphaned FIN_WAIT_2 lasts tcp_fin_timeout (1 s here), then goes without a word.
  sysctl("tcp_fin_timeout", 1);
  char buf[16];
  c = pair(l, 7300, &srv);
  int cp = local_port(c);
  close(c);
  usleep(200000);
  state("orphan after 0.2 s", cp, 7300);
  usleep(1200000);
  state("orphan after 1.4 s", cp, 7300);
  printf("server recv %s\n", res(recv(srv, buf, sizeof buf, MSG_DONTWAIT)));
  close(srv);
  WAIT;

  // Not orphaned (shutdown only): FIN_WAIT_2 stays.
  c = pair(l, 7300, &srv);
  cp = local_port(c);
  shutdown(c, SHUT_WR);
  usleep(1400000);
  state("shutdown only after 1.4 s", cp, 7300);
  // TCP_LINGER2 -1 and a close in FIN_WAIT_2: a RST.
  setopt(c, TCP_LINGER2, -1);
  close(c);
  WAIT;
  state("linger2 -1 closed in fin_wait2", cp, 7300);
  int err = 0;
  socklen_t el = sizeof err;
  getsockopt(srv, SOL_SOCKET, SO_ERROR, &err, &el);
  printf("server so_error after rst %s\n", err ? strerrorname_np(err) : "0");
  close(srv);
  WAIT;

  // TCP_LINGER2 -1 and a close in ESTABLISHED: gone without a RST once our FIN is acknowledged.
  c = pair(l, 7300, &srv);
  cp = local_port(c);
  setopt(c, TCP_LINGER2, -1);
  close(c);
  WAIT;
  state("linger2 -1 closed established", cp, 7300);
  printf("server recv eof %s\n", res(recv(srv, buf, sizeof buf, MSG_DONTWAIT)));
  close(srv);

  // TCP_LINGER2 5 beats tcp_fin_timeout 1.
  c = pair(l, 7300, &srv);
  cp = local_port(c);
  setopt(c, TCP_LINGER2, 5);
  close(c);
  usleep(1400000);
  state("linger2 5 after 1.4 s", cp, 7300);
  close(srv);
  close(l);
  return 0;
}
