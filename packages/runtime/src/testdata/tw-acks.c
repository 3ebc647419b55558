/* What a TIME_WAIT connection does with segments of its peer, and the TSvals of SYNs, on
 * loopback, as Linux's tcp_timewait_state_process and secure_tcp_ts_off have them. A packet
 * socket on lo reads the sequence numbers of a connection that the server closes first; once its
 * end waits in TIME_WAIT, a raw TCP socket sends it segments as its (closed) client:
 *   - an ACK of its FIN again (at RCV.NXT, no data): TIME_WAIT starts over (its timer in
 *     /proc/net/tcp is back to 60 s) and nothing answers it;
 *   - an ACK out of the window: answered with an ACK, which draws the client kernel's RST, which
 *     ends the TIME_WAIT at once.
 * Then, with net.ipv4.tcp_timestamps 1 (a random TSval offset per pair of addresses) and 2 (no
 * offset), whether SYNs to 127.0.0.1 and to 127.0.0.2 carry TSvals of the same clock.
 * Run in a fresh network namespace (lo up) and under tsvisor, the output must be the same. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <time.h>

#include "tw-util.h"

#define SERVER 6101
#define CLIENT 40301

/* A TCP segment from one of the capture's packets. */
struct seg {
  uint32_t daddr, seq, ack, tsval;
  int sport, dport, flags, has_ts;
};

/* The next TCP segment lo received within `ms` milliseconds; 0 when none came. */
static int next_seg(int p, int ms, struct seg *s) {
  unsigned char b[2048];
  for (;;) {
    struct pollfd pfd = {.fd = p, .events = POLLIN};
    if (poll(&pfd, 1, ms) <= 0) return 0;
    struct sockaddr_ll from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(p, b, sizeof b, 0, (struct sockaddr *)&from, &fl);
    if (n < (ssize_t)sizeof(struct iphdr) || from.sll_pkttype == PACKET_OUTGOING) continue;
    struct iphdr *ip = (struct iphdr *)b;
    size_t ihl = ip->ihl * 4u;
    if (ip->protocol != IPPROTO_TCP || (size_t)n < ihl + sizeof(struct tcphdr)) continue;
    struct tcphdr *th = (struct tcphdr *)(b + ihl);
    size_t doff = th->doff * 4u;
    s->daddr = ip->daddr;
    s->sport = ntohs(th->source);
    s->dport = ntohs(th->dest);
    s->seq = ntohl(th->seq);
    s->ack = ntohl(th->ack_seq);
    s->flags = b[ihl + 13];
    s->has_ts = 0;
    for (size_t i = sizeof *th; i < doff && ihl + i < (size_t)n;) {
      unsigned char kind = b[ihl + i];
      if (kind == TCPOPT_EOL) break;
      if (kind == TCPOPT_NOP) {
        i++;
        continue;
      }
      unsigned char len = b[ihl + i + 1];
      if (len < 2) break;
      if (kind == TCPOPT_TIMESTAMP && len == 10) {
        uint32_t v;
        memcpy(&v, b + ihl + i + 2, 4);
        s->tsval = ntohl(v);
        s->has_ts = 1;
      }
      i += len;
    }
    return 1;
  }
}

/* The time left (ms) on the timer /proc/net/tcp shows for the TIME_WAIT connection of
 * SERVER to CLIENT; -1 when it is not listed. */
static long tw_timer_left(void) {
  FILE *f = fopen("/proc/net/tcp", "r");
  char line[256];
  long left = -1;
  unsigned lport, rport, st, tr;
  unsigned long when;
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, " %*d: %*x:%x %*x:%x %x %*x:%*x %x:%lx", &lport, &rport, &st, &tr, &when) == 5 &&
        lport == SERVER && rport == CLIENT && st == 6)
      left = (long)when * 1000 / sysconf(_SC_CLK_TCK);
  fclose(f);
  return left;
}

static uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

/* Sends from 127.0.0.1:CLIENT to 127.0.0.1:SERVER a bare ACK (no options) through raw socket `r`. */
static void send_ack(int r, uint32_t seq, uint32_t ack) {
  struct tcphdr th = {.source = htons(CLIENT), .dest = htons(SERVER), .seq = htonl(seq), .ack_seq = htonl(ack)};
  th.doff = sizeof th / 4;
  th.ack = 1;
  th.window = htons(1000);
  uint32_t sum = 0x7f00 + 0x0001 + 0x7f00 + 0x0001 + IPPROTO_TCP + sizeof th;
  const uint16_t *w = (const uint16_t *)&th;
  for (size_t i = 0; i < sizeof th / 2; i++) sum += ntohs(w[i]);
  th.check = htons(fold(sum));
  struct sockaddr_in to = lo(SERVER);
  if (sendto(r, &th, sizeof th, 0, (struct sockaddr *)&to, sizeof to) != sizeof th) perror("raw sendto");
}

/* Reads what the capture holds already. */
static void drain(int p) {
  struct seg s;
  while (next_seg(p, 0, &s)) {
  }
}

/* Whether TIME_WAIT's end answers anything within 200 ms (a segment from SERVER to CLIENT). */
static const char *answered(int p) {
  struct seg s;
  while (next_seg(p, 200, &s))
    if (s.sport == SERVER && s.dport == CLIENT) return "yes";
  return "no";
}

static void time_wait_acks(void) {
  int p = lo_capture(), r = socket(AF_INET, SOCK_RAW, IPPROTO_TCP);
  if (r < 0) {
    perror("raw socket");
    exit(1);
  }
  int l = reuse_listener(SERVER), c = connect_from(CLIENT, SERVER);
  int s = accept(l, NULL, NULL);
  char b;
  close(s);
  int eof = read(c, &b, 1) == 0;
  close(c);
  /* The client's FIN: its sequence number plus one is the TIME_WAIT's RCV.NXT; it acknowledges
   * the server's FIN, so its ACK is the server's SND.NXT. */
  struct seg fin = {0}, g;
  while (next_seg(p, 1000, &g))
    if (g.sport == CLIENT && g.dport == SERVER && (g.flags & 1)) {
      fin = g;
      break;
    }
  printf("EOF %s, client FIN seen %s, server TIME_WAIT %d\n", eof ? "yes" : "no", fin.flags ? "yes" : "no",
         time_waits(SERVER, CLIENT));
  usleep(1500 * 1000);
  long left = tw_timer_left();
  printf("after 1.5 s: timer under 59 s %s\n", left >= 0 && left < 59000 ? "yes" : "no");
  drain(p);
  send_ack(r, fin.seq + 1, fin.ack);
  left = tw_timer_left();
  printf("ACK at RCV.NXT: timer over 59.5 s %s, answered %s, server TIME_WAIT %d\n", left > 59500 ? "yes" : "no",
         answered(p), time_waits(SERVER, CLIENT));
  drain(p);
  send_ack(r, fin.seq + 100000, fin.ack);
  /* The client kernel's RST for the answer (no socket has the client's port) ends the TIME_WAIT. */
  printf("ACK out of the window: answered %s", answered(p));
  printf(", server TIME_WAIT %d\n", time_waits(SERVER, CLIENT));
  close(l);
  close(r);
  close(p);
}

/* The TSval of the SYN a connect to `addr`:SERVER sends (which fails or not: only the SYN counts). */
static int syn_tsval(int p, const char *addr, uint32_t *tsval) {
  int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_in a = lo(SERVER);
  inet_pton(AF_INET, addr, &a.sin_addr);
  connect(c, (struct sockaddr *)&a, sizeof a);
  struct seg s;
  int found = 0;
  while (!found && next_seg(p, 1000, &s))
    if (s.dport == SERVER && s.daddr == a.sin_addr.s_addr && (s.flags & 0x12) == 0x02 && s.has_ts) {
      *tsval = s.tsval;
      found = 1;
    }
  close(c);
  return found;
}

static void syn_tsvals(const char *mode) {
  sysctl("tcp_timestamps", mode);
  int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(SERVER)};
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 16)) {
    perror("listener");
    exit(1);
  }
  int p = lo_capture();
  uint32_t t1 = 0, t2 = 0;
  int ok = syn_tsval(p, "127.0.0.1", &t1) && syn_tsval(p, "127.0.0.2", &t2);
  int32_t d = (int32_t)(t2 - t1);
  printf("tcp_timestamps %s: SYNs with TSvals %s, to 127.0.0.1 and 127.0.0.2 within 1 s of each other %s\n", mode,
         ok ? "yes" : "no", ok && d >= 0 && d < 1000 ? "yes" : "no");
  close(p);
  close(l);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  time_wait_acks();
  syn_tsvals("1");
  syn_tsvals("2");
  return 0;
}
