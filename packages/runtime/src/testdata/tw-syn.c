/* A client that connects again and again from the same port (SO_REUSEADDR) to a server that
 * closes first, on loopback: the server's end of each connection waits in TIME_WAIT when the next
 * SYN of the same addresses and ports comes. Linux's tcp_timewait_state_process takes such a SYN
 * as a new connection (TCP_TW_SYN) when it comes after the old one: a sequence number after
 * RCV.NXT (secure_tcp_seq's ISNs grow with the clock) or a newer TSval (secure_tcp_ts_off is per
 * pair of addresses). The TIME_WAIT ends and the listener answers the SYN at once; an ACK
 * instead would cost the client a RST and its SYN's retransmission, a second later. With and
 * without timestamps. Run in a fresh network namespace (lo up) and under tsvisor, the output must
 * be the same. */
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

#define SERVER 6001
#define CLIENT 40200

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* One connection from 127.0.0.1:CLIENT: connect (timed), a byte each way, then the server
 * closes first and the client after it, so the server's end is left in TIME_WAIT. */
static void round_of(const char *what, int l) {
  int c = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(c, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = lo(CLIENT);
  if (bind(c, (struct sockaddr *)&a, sizeof a)) {
    printf("%s: bind %s\n", what, res(-1));
    close(c);
    return;
  }
  int tw = time_waits(SERVER, CLIENT);
  a = lo(SERVER);
  double t0 = now_ms();
  int r = connect(c, (struct sockaddr *)&a, sizeof a);
  double took = now_ms() - t0;
  printf("%s: server TIME_WAIT before %d, connect %s, under 500 ms %s, server TIME_WAIT after %d\n", what, tw,
         res(r), took < 500 ? "yes" : "no", time_waits(SERVER, CLIENT));
  if (r) {
    close(c);
    return;
  }
  int s = accept(l, NULL, NULL);
  char b = 0;
  int ok = write(c, "x", 1) == 1 && read(s, &b, 1) == 1 && b == 'x' && write(s, "y", 1) == 1 &&
           read(c, &b, 1) == 1 && b == 'y';
  close(s);
  int eof = read(c, &b, 1) == 0;
  close(c);
  usleep(50 * 1000); /* the server's ACK of the client's FIN */
  printf("%s: data both ways %s, EOF %s, server TIME_WAIT %d\n", what, ok ? "yes" : "no", eof ? "yes" : "no",
         time_waits(SERVER, CLIENT));
}

int main(void) {
  int l = reuse_listener(SERVER);
  char what[64];
  for (int i = 0; i < 4; i++) {
    snprintf(what, sizeof what, "timestamps, round %d", i);
    round_of(what, l);
  }
  /* Only the sequence numbers tell the connections apart now. */
  sysctl("tcp_timestamps", "0");
  for (int i = 0; i < 4; i++) {
    snprintf(what, sizeof what, "no timestamps, round %d", i);
    round_of(what, l);
  }
  return 0;
}
