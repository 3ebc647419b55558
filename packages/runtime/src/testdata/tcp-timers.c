// The timers /proc/net/tcp shows (get_tcp4_sock's tr, tm->when, retrnsmt, timeout) for TCP
// connections in known states: idle, keepalive armed, TIME_WAIT, and a SYN that a filtered
// listener drops; plus an idle connection's rto, ato, cwnd and ssthresh, and a peer's FIN in
// rx_queue; and a zero window: the persist timer (tr 4), its backoff (the rto column stays) and
// icsk_probes_out, which a peer's answer resets (an answer Linux rate-limits to one per 500 ms).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct line {
  int found;
  unsigned st, tr, retrnsmt, timeout;
  unsigned long when;
  int rto, ato, quick, cwnd, ssthresh;
};

// The /proc/net/tcp line of the socket bound to local port `lport` talking to `rport`.
static struct line proc_line(int lport, int rport) {
  struct line l = {0};
  FILE *f = fopen("/proc/net/tcp", "r");
  char buf[512];
  fgets(buf, sizeof buf, f);
  while (fgets(buf, sizeof buf, f)) {
    unsigned la, lp, ra, rp, st, tx, rx, tr, rt, uid, to;
    unsigned long when, ino;
    int rto = 0, ato = 0, quick = 0, cwnd = 0, ss = 0;
    int n = sscanf(buf, " %*d: %x:%x %x:%x %x %x:%x %x:%lx %x %u %u %lu %*d %*s %d %d %d %d %d", &la, &lp, &ra, &rp,
                   &st, &tx, &rx, &tr, &when, &rt, &uid, &to, &ino, &rto, &ato, &quick, &cwnd, &ss);
    if (n < 13 || (int)lp != lport || (int)rp != rport) continue;
    l = (struct line){1, st, tr, rt, to, when, rto, ato, quick, cwnd, ss};
  }
  fclose(f);
  return l;
}

/* The rx_queue column of the socket bound to local port `lport` talking to `rport`. */
static unsigned rx_queue(int lport, int rport) {
  unsigned rx = ~0u;
  FILE *f = fopen("/proc/net/tcp", "r");
  char buf[512];
  fgets(buf, sizeof buf, f);
  while (fgets(buf, sizeof buf, f)) {
    unsigned lp, rp, q;
    if (sscanf(buf, " %*d: %*x:%x %*x:%x %*x %*x:%x", &lp, &rp, &q) == 3 && (int)lp == lport && (int)rp == rport) rx = q;
  }
  fclose(f);
  return rx;
}

static int port_of(int fd, int peer) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  if (peer) getpeername(fd, (void *)&a, &len);
  else getsockname(fd, (void *)&a, &len);
  return ntohs(a.sin_port);
}

// `when` in seconds, as a range the test can print stably.
static const char *secs(unsigned long ticks, unsigned lo, unsigned hi) {
  static char b[64];
  unsigned s = ticks / 100;
  snprintf(b, sizeof b, s >= lo && s <= hi ? "in %u..%us" : "OUT OF %u..%us", lo, hi);
  return b;
}

static void show(const char *what, int fd, unsigned lo, unsigned hi) {
  struct line l = proc_line(port_of(fd, 0), port_of(fd, 1));
  if (!l.found) {
    printf("%s: not listed\n", what);
    return;
  }
  printf("%s: st %02X tr %u when %s retrnsmt %u timeout %u\n", what, l.st, l.tr, l.tr ? secs(l.when, lo, hi) : "-",
         l.retrnsmt, l.timeout);
}

static int listener(struct sockaddr_in *a) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  *a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof *a;
  bind(l, (void *)a, sizeof *a);
  listen(l, 8);
  getsockname(l, (void *)a, &len);
  return l;
}

static void pair(int *c, int *s) {
  struct sockaddr_in a;
  int l = listener(&a);
  *c = socket(AF_INET, SOCK_STREAM, 0);
  connect(*c, (void *)&a, sizeof a);
  *s = accept(l, NULL, NULL);
  close(l);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int c, s;
  pair(&c, &s);
  usleep(100000);
  show("idle client", c, 0, 0);
  struct line l = proc_line(port_of(c, 0), port_of(c, 1));
  printf("idle client: rto %d ato %d cwnd %d ssthresh %d\n", l.rto, l.ato, l.cwnd, l.ssthresh);

  int one = 1, idle = 100;
  setsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  usleep(50000);
  show("keepalive client", c, 98, 100);

  // A peer's FIN counts in rx_queue (rcv_nxt - copied_seq) until a read with room left takes it.
  for (int room = 0; room < 2; room++) {
    int c4, s4;
    pair(&c4, &s4);
    write(s4, "abc", 3);
    close(s4);
    usleep(100000);
    int lp4 = port_of(c4, 0), rp4 = port_of(c4, 1);
    unsigned before = rx_queue(lp4, rp4);
    char b4[10];
    long got = read(c4, b4, room ? sizeof b4 : 3);
    unsigned after = rx_queue(lp4, rp4);
    long eof = read(c4, b4, sizeof b4);
    printf("fin, read of %s: rx_queue %u, read %ld, rx_queue %u, then read %ld, rx_queue %u\n",
           room ? "10" : "3", before, got, after, eof, rx_queue(lp4, rp4));
    close(c4);
  }

  // TIME_WAIT: the side that closes first.
  int c2, s2;
  pair(&c2, &s2);
  int lp = port_of(c2, 0), rp = port_of(c2, 1);
  close(c2);
  char b;
  read(s2, &b, 1);
  close(s2);
  usleep(100000);
  l = proc_line(lp, rp);
  printf("time_wait: st %02X tr %u when %s\n", l.st, l.tr, l.tr ? secs(l.when, 58, 60) : "-");

  // A receiver that reads nothing, its window closed: the sender probes it with the persist
  // timer at 200, 400, 800 ms... after the window closed. The first probe is answered (probes
  // 0), the second, 400 ms later, is not (tcp_invalid_ratelimit: probes 1), the third is.
  // (Until the peer's delayed ACK announces the zero window, about 40 ms after the last write,
  // Linux shows the retransmission timer: not sampled.)
  {
    struct sockaddr_in za = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t zlen = sizeof za;
    int zl = socket(AF_INET, SOCK_STREAM, 0), small = 2048;
    setsockopt(zl, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    bind(zl, (void *)&za, sizeof za);
    listen(zl, 1);
    getsockname(zl, (void *)&za, &zlen);
    int zc = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    connect(zc, (void *)&za, sizeof za);
    int zs = accept(zl, NULL, NULL);
    usleep(50000);
    static char fill[3000];
    long sent = write(zc, fill, sizeof fill);
    printf("zero window: wrote %ld\n", sent);
    const int at[] = {450, 1000, 1800};
    int slept = 0;
    for (int i = 0; i < 3; i++) {
      usleep((at[i] - slept) * 1000);
      slept = at[i];
      l = proc_line(port_of(zc, 0), port_of(zc, 1));
      printf("zero window at %d ms: st %02X tr %u when %s retrnsmt %u timeout %u rto %d\n", at[i], l.st, l.tr,
             l.tr ? secs(l.when, 0, i == 2 ? 2 : 1) : "-", l.retrnsmt, l.timeout, l.rto);
    }
    close(zc);
    close(zs);
    close(zl);
  }

  // A SYN the listener's filter drops: the client stays in SYN_SENT and retransmits.
  struct sockaddr_in a;
  int fl = listener(&a);
  struct sock_filter drop[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  struct sock_fprog prog = {1, drop};
  if (setsockopt(fl, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) perror("SO_ATTACH_FILTER");
  int c3 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  connect(c3, (void *)&a, sizeof a);
  usleep(100000);
  l = proc_line(port_of(c3, 0), ntohs(a.sin_port));
  printf("syn_sent: st %02X tr %u when %s retrnsmt %u\n", l.st, l.tr, l.tr ? secs(l.when, 0, 1) : "-", l.retrnsmt);
  usleep(1200000);
  l = proc_line(port_of(c3, 0), ntohs(a.sin_port));
  printf("syn_sent after 1.3 s: st %02X tr %u when %s retrnsmt %u\n", l.st, l.tr, l.tr ? secs(l.when, 0, 2) : "-",
         l.retrnsmt);
  return 0;
}
