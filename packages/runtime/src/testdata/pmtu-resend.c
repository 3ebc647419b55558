/* What a TCP connection resends when the path MTU falls with data in flight, on lo natively in a
 * fresh network namespace and under tsvisor (pmtu-resend.test.ts). A connection from 127.0.0.1
 * to 127.0.0.3 first learns a path MTU of 1500 (MSS 1448); the accepted end then drops every
 * segment (a socket filter that takes nothing), the connection sends 2896 bytes (two full
 * segments) and, a moment later, 300 more, and a raw ICMP socket reports fragmentation needed
 * with MTU 1200 quoting SND.UNA (no loss probe goes first: tcp_early_retrans is 2). Linux's tcp_simple_retransmit resends only the segments longer
 * than the new MSS (the first 2896 bytes, not the 300) with the window unchanged in segments.
 * Printed: TCP_MAXSEG, whether tcpi_snd_cwnd changed (Linux counts it in segments, which a new
 * MSS leaves alone) and tcpi_bytes_retrans after each fall; then, the filter gone, what the peer
 * receives. */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_retrans */

#include "recv-err-util.h"

/* Fragmentation needed with next-hop MTU `mtu` about the segment with `seq` from `sport` to
 * 127.0.0.3:`dport`, sent at once: no wait that would let a loss probe go first. */
static void frag_needed(int raw, unsigned short sport, unsigned short dport, unsigned seq, int mtu) {
  unsigned char m[8 + 20 + 8] = {3, 4};
  unsigned info = htonl(mtu);
  memcpy(m + 4, &info, 4);
  quoted_ip4(m + 8, inet_addr("127.0.0.3"), IPPROTO_TCP, 1500, 64);
  tcp_quote(m + 28, sport, dport, seq);
  unsigned short c = csum(m, sizeof m);
  memcpy(m + 2, &c, 2);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = inet_addr("127.0.0.1")};
  if (sendto(raw, m, sizeof m, 0, (struct sockaddr *)&to, sizeof to) != sizeof m) printf("raw send: %s\n", err());
}

static struct tcp_info info(int c) {
  struct tcp_info ti;
  socklen_t l = sizeof ti;
  getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &l);
  return ti;
}

/* TCP_MAXSEG, whether tcpi_snd_cwnd is still `cwnd` (its value before the path MTU fell), and
 * tcpi_bytes_retrans. */
static void report(const char *what, int c, unsigned cwnd) {
  int mss = -1;
  socklen_t l = sizeof mss;
  getsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &mss, &l);
  struct tcp_info ti = info(c);
  printf("%s: TCP_MAXSEG %d tcpi_snd_cwnd %s tcpi_bytes_retrans %llu\n", what, mss,
         ti.tcpi_snd_cwnd == cwnd ? "unchanged" : "changed", (unsigned long long)ti.tcpi_bytes_retrans);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  /* No tail loss probe (tcp_early_retrans below 3): its timer, a few ms, would race the report. */
  FILE *f = fopen("/proc/sys/net/ipv4/tcp_early_retrans", "w");
  if (!f || fputs("2\n", f) < 0 || fclose(f) != 0) printf("tcp_early_retrans: %s\n", err());
  int raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  int sniff = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
  if (raw < 0 || sniff < 0) {
    printf("raw socket: %s\n", err());
    return 1;
  }
  timeo(sniff, SO_RCVTIMEO, 1, 0);
  struct sniffed_pair p = sniffed_connect(sniff);
  int l = p.l, c = p.c, s = p.s;
  struct sockaddr_in me = p.me, a = p.peer;
  unsigned isn = p.isn;
  close(sniff);
  printf("SYN seen %s\n", isn ? "yes" : "no");
  int one = 1;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  /* Data first, so that the MSS is no longer held to half the peer's first window. */
  static char data[20000];
  long sent = send(c, data, sizeof data, 0), got = 0;
  timeo(s, SO_RCVTIMEO, 2, 0);
  for (long r; got < sent && (r = recv(s, data, sizeof data, 0)) > 0;) got += r;
  sleep_ms(50);
  unsigned una = isn + 1 + sent, cwnd = info(c).tcpi_snd_cwnd;
  frag_needed(raw, me.sin_port, a.sin_port, una, 1500);
  sleep_ms(50);
  report("path MTU 1500", c, cwnd);

  struct sock_filter drop[] = {{BPF_RET | BPF_K, 0, 0, 0}};
  struct sock_fprog prog = {1, drop};
  setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
  printf("send %s", res(send(c, data, 2896, 0)));
  sleep_ms(2);
  printf(" send %s\n", res(send(c, data, 300, 0)));
  frag_needed(raw, me.sin_port, a.sin_port, una, 1200);
  sleep_ms(20);
  report("frag needed 1200", c, cwnd);

  setsockopt(s, SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof one);
  got = 0;
  for (long r; got < 3196 && (r = recv(s, data, sizeof data, 0)) > 0;) got += r;
  printf("received %ld\n", got);
  close(c);
  close(s);
  close(l);
  return 0;
}
