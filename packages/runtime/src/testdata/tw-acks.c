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
  int p = lo_capture(), r = raw_tcp();
  int l = reuse_listener(SERVER), eof = server_closes_first(l, connect_from(CLIENT, SERVER));
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
  send_bare(r, CLIENT, SERVER, fin.seq + 1, fin.ack, TH_ACK);
  left = tw_timer_left();
  printf("ACK at RCV.NXT: timer over 59.5 s %s, answered %s, server TIME_WAIT %d\n", left > 59500 ? "yes" : "no",
         answered(p), time_waits(SERVER, CLIENT));
  drain(p);
  send_bare(r, CLIENT, SERVER, fin.seq + 100000, fin.ack, TH_ACK);
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
