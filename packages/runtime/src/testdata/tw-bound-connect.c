/* connect(2) from a port bind(2) named (SO_REUSEADDR) to a peer whose connection from that port
 * is still in TIME_WAIT, on loopback. Linux's inet_hash_connect calls __inet_check_established
 * for a bound port without a place for the TIME_WAIT sock, so tcp_twsk_unique takes it over
 * whenever it had timestamps: at once, whatever net.ipv4.tcp_tw_reuse says (no one-second rule),
 * counted in TcpExt TWRecycled. Without timestamps, or against a live connection of the same
 * addresses and ports, connect fails with EADDRNOTAVAIL. Run in a fresh network namespace (lo up)
 * and under tsvisor, the output must be the same. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tw-util.h"

#define SERVER 5999

/* The port the clients bind. */
static int client = 40100;

/* A TCP socket with SO_REUSEADDR (`reuse`) bound to 127.0.0.1:`client`; prints bind's result. */
static int bound(const char *what, int reuse) {
  int c = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  if (reuse) setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = lo(client);
  printf("%s: bind %s\n", what, res(bind(c, (struct sockaddr *)&a, sizeof a)));
  return c;
}

/* TcpExt TWRecycled from /proc/net/netstat. */
static long recycled(void) {
  FILE *f = fopen("/proc/net/netstat", "r");
  char names[4096], values[4096];
  long v = -1;
  if (!f) return -1;
  while (fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
    if (strncmp(names, "TcpExt:", 7)) continue;
    char *ns, *vs, *n = strtok_r(names, " \n", &ns), *val = strtok_r(values, " \n", &vs);
    for (; n && val; n = strtok_r(NULL, " \n", &ns), val = strtok_r(NULL, " \n", &vs))
      if (!strcmp(n, "TWRecycled")) v = atol(val);
  }
  fclose(f);
  return v;
}

/* Connects `c` to the server and passes a byte each way over the connection it accepts from
 * `l` (so it works); returns the accepted socket, or -1 when connect failed. */
static int use(const char *what, int c, int l) {
  struct sockaddr_in a = lo(SERVER);
  long before = recycled();
  int r = connect(c, (struct sockaddr *)&a, sizeof a);
  printf("%s: connect %s, TWRecycled +%ld, TIME_WAIT left %d\n", what, res(r), recycled() - before, time_waits(client, -1));
  if (r) return -1;
  int s = accept(l, NULL, NULL);
  char b = 0;
  int ok = write(c, "x", 1) == 1 && read(s, &b, 1) == 1 && b == 'x' && write(s, "y", 1) == 1 &&
           read(c, &b, 1) == 1 && b == 'y';
  printf("%s: data both ways %s\n", what, ok ? "yes" : "no");
  return s;
}

/* The client `c` closes first, then the server `s`: the client's end waits in TIME_WAIT. */
static void finish(const char *what, int c, int s) {
  close(c);
  usleep(50 * 1000);
  if (s >= 0) close(s);
  usleep(100 * 1000);
  printf("%s: TIME_WAIT %d\n", what, time_waits(client, -1));
}

/* A connection from 127.0.0.1:`client` (SO_REUSEADDR) that ends in TIME_WAIT. */
static void round_of(const char *what, int l) {
  int c = bound(what, 1);
  finish(what, c, use(what, c, l));
}

int main(void) {
  int l = reuse_listener(SERVER);
  round_of("first", l);
  /* Taken over at once, with tcp_tw_reuse 2 (over loopback) and with 0 alike. */
  round_of("again at once", l);
  sysctl("tcp_tw_reuse", "0");
  round_of("tcp_tw_reuse 0", l);
  sysctl("tcp_tw_reuse", "2");
  /* Without SO_REUSEADDR on the new socket the port is taken. */
  close(bound("no SO_REUSEADDR", 0));
  /* A live connection of the same addresses and ports is never taken over. */
  int live = bound("live", 1);
  int s = use("live", live, l);
  int twin = bound("same as live", 1);
  use("same as live", twin, l);
  close(twin);
  finish("live", live, s);
  /* A TIME_WAIT connection without timestamps cannot be told apart from a new one: EADDRNOTAVAIL.
   * (Another port: a connection that took over one with timestamps keeps its TS.Recent.) */
  sysctl("tcp_timestamps", "0");
  client++;
  round_of("no timestamps", l);
  int c = bound("after no timestamps", 1);
  use("after no timestamps", c, l);
  close(c);
  return 0;
}
