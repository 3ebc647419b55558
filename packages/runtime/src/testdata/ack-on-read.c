// The ACK a read sends (Linux tcp_cleanup_rbuf): past the quick ACKs of a connection's start, a
// lone full segment is acknowledged when the reader takes it only if the segment ended a write
// (PSH, which MSG_MORE leaves off: tcp_measure_rcv_mss's ICSK_ACK_PUSHED); otherwise the ACK
// waits for the delayed-ACK timer or more data. Client segments of 988 bytes (TCP_MAXSEG 1000
// with timestamps, TCP_NODELAY), counted in a capture of lo with its segmentation offloads off
// (natively; netstack has none). Prints the same natively (in a fresh network namespace) and
// under tsvisor.
#define _GNU_SOURCE
#include <time.h>

#include "tw-util.h"

#define PORT 47400
#define SEG 988

static void sleep_ms(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

// The server's pure ACKs the capture holds (and everything else it drops).
static int server_acks(int p) {
  struct seg g;
  int n = 0;
  while (next_seg(p, 0, &g))
    if (g.sport == PORT && g.len == 0) n++;
  return n;
}

int main(void) {
  lo_offloads_off();
  int p = lo_capture();
  int l = reuse_listener(PORT), one = 1, mss = 1000;
  struct sockaddr_in a = lo(PORT);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c, (struct sockaddr *)&a, sizeof a)) {
    perror("connect");
    return 1;
  }
  int s = accept(l, NULL, NULL);
  static char b[SEG], rbuf[1 << 16];
  // Past the quick ACKs of the start: segments the server reads as they come.
  for (int i = 0; i < 40; i++) {
    if (write(c, b, SEG) != SEG || read(s, rbuf, sizeof rbuf) != SEG) {
      perror("warm-up");
      return 1;
    }
    sleep_ms(1);
  }
  // One full segment alone: the read that takes it sends the ACK only if the segment ended a
  // write (PSH; tcp_measure_rcv_mss's ICSK_ACK_PUSHED), not one sent with MSG_MORE.
  for (int more = 1; more >= 0; more--) {
    sleep_ms(60); // past the delayed-ACK timer of what came before
    server_acks(p);
    if (send(c, b, SEG, more ? MSG_MORE : 0) != SEG) {
      perror("send");
      return 1;
    }
    sleep_ms(2);
    int before = server_acks(p);
    ssize_t n = read(s, rbuf, sizeof rbuf);
    sleep_ms(2);
    printf("one segment%s: ACKs before the read %d, read %zd, ACKs at the read %d\n",
           more ? " with MSG_MORE" : "", before, n, server_acks(p));
  }
  return 0;
}
