// The sender's silly window avoidance (RFC 9293 §3.8.6.2.1, Linux tcp_snd_wnd_test): a bulk
// sender with whole segments queued (TCP_MAXSEG 1000: 988 bytes with timestamps; it writes one
// at a time) sends only whole segments while a slow reader (SO_RCVBUF 8192, 2000 bytes at a
// time) opens the window by other amounts: never the few bytes left at the window's edge. lo's
// segmentation offloads are turned off first (natively; netstack has none), so that the capture
// of lo shows the segments themselves. Prints the same natively (in a fresh network namespace)
// and under tsvisor.
#define _GNU_SOURCE
#include <time.h>

#include "tw-util.h"

#define PORT 47331
#define SEG 988
#define TOTAL (SEG * 8 * 40)

static char wbuf[SEG], rbuf[2000];

int main(void) {
  lo_offloads_off();
  int p = lo_capture();
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1, rcvbuf = 8192, mss = 1000;
  struct sockaddr_in a = lo(PORT);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4)) {
    perror("listener");
    return 1;
  }
  int c = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
  if (connect(c, (struct sockaddr *)&a, sizeof a)) {
    perror("connect");
    return 1;
  }
  int s = accept(l, NULL, NULL);
  fcntl(c, F_SETFL, O_NONBLOCK);
  long sent = 0, got = 0;
  int full = 0, other = 0, partial = 0, cport = -1;
  struct seg g;
  while (got < TOTAL) {
    // One segment per write, and only while POLLOUT (free space of at least half the queued
    // bytes), so that each write is taken whole and the queue ends on a whole segment.
    struct pollfd pfd = {.fd = c, .events = POLLOUT};
    while (sent < TOTAL && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT)) {
      ssize_t n = write(c, wbuf + sent % SEG, SEG - sent % SEG);
      if (n <= 0) break;
      if (n != SEG) partial++;
      sent += n;
    }
    struct timespec ts = {0, 500000};
    nanosleep(&ts, NULL);
    ssize_t n = read(s, rbuf, sizeof rbuf);
    if (n <= 0) {
      perror("read");
      return 1;
    }
    got += n;
    // The capture so far: the client's data segments (to the listener's port).
    while (next_seg(p, 0, &g)) {
      if (g.dport != PORT || g.len <= 0) continue;
      if (cport < 0) cport = g.sport;
      if (g.sport != cport) continue;
      if (g.len == SEG) full++;
      else other++;
    }
  }
  printf("received all: %s\n", got == TOTAL ? "yes" : "no");
  printf("data segments of %d bytes: over 200 %s\n", SEG, full > 200 ? "yes" : "no");
  printf("data segments of other sizes: %d\n", other);
  printf("writes taken in part: %d\n", partial);
  return 0;
}
