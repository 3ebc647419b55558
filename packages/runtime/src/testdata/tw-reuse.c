/* connect(2) and TIME_WAIT on loopback: with the ephemeral range cut to 10 ports, 10 connections
 * whose client closed first leave every port in TIME_WAIT. tcp_tw_reuse=2 (Linux's default) lets
 * the next connects to the same peer take those over once the peer's last timestamp is from an
 * earlier second; with 0 the range is exhausted for that peer (EADDRNOTAVAIL) but not for another
 * peer, which shares the ports (__inet_hash_connect); 1 takes them over again. Run in a fresh
 * network namespace (lo up) and under tsvisor, the output must be the same. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tw-util.h"

#define LOW 40000
#define HIGH 40009

static int listener(int port) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = lo(port);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 64)) {
    perror("listener");
    exit(1);
  }
  return l;
}

/* `n` connections to the listener `l` on `port`, each closed by the client first: how many
 * connected, the errno of the first that did not (or "-"), and whether every local port was in
 * the range. */
static void round_of(const char *what, int l, int port, int n) {
  int ok = 0, in_range = 1, err = 0;
  for (int i = 0; i < n; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = lo(port);
    if (connect(c, (struct sockaddr *)&a, sizeof a)) {
      if (!err) err = errno;
      close(c);
      continue;
    }
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    getsockname(c, (struct sockaddr *)&me, &len);
    if (ntohs(me.sin_port) < LOW || ntohs(me.sin_port) > HIGH) in_range = 0;
    int s = accept(l, NULL, NULL);
    close(c); /* the client's end goes to TIME_WAIT */
    char b;
    if (read(s, &b, 1) != 0) printf("%s: the server read data\n", what);
    close(s);
    ok++;
  }
  printf("%s: %d of %d connected, first failure %s, ports in range %s\n", what, ok, n,
         err ? strerrorname_np(err) : "-", in_range ? "yes" : "no");
}

/* Sleeps past the next second boundary and one more: TIME_WAITs made before are reusable. */
static void next_second(void) {
  struct timespec d = {2, 200 * 1000 * 1000};
  nanosleep(&d, NULL);
}

int main(void) {
  char range[32];
  snprintf(range, sizeof range, "%d %d", LOW, HIGH);
  sysctl("ip_local_port_range", range);
  int l = listener(5999), other = listener(6001);
  round_of("fill the range", l, 5999, 10);
  next_second();
  round_of("tcp_tw_reuse 2, same peer", l, 5999, 10);
  sysctl("tcp_tw_reuse", "0");
  next_second();
  round_of("tcp_tw_reuse 0, same peer", l, 5999, 3);
  round_of("tcp_tw_reuse 0, another peer", other, 6001, 3);
  sysctl("tcp_tw_reuse", "1");
  next_second();
  round_of("tcp_tw_reuse 1, same peer", l, 5999, 10);
  return 0;
}
