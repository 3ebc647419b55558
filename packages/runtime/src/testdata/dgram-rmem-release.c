/* How many datagrams a large SO_RCVBUF holds, and when UDP gives back the memory of the ones
 * read, natively in a fresh network namespace and under tsvisor (dgram-rmem-release.test.ts).
 * Linux bounds a datagram socket's receive queue only by the memory it charges (832 bytes for a
 * short datagram on lo), so SO_RCVBUF 200000 (400000) holds 480 short UDP datagrams and 481 on
 * raw and ping sockets, which take one while the charge is below the limit. A UDP read gives its
 * datagram's memory back only once a quarter of the limit was read or the reader queue, what a
 * read or FIONREAD found queued when that queue was empty, runs out (udp_rmem_release): until
 * then SO_MEMINFO's rmem_alloc keeps it, and so does the test that drops arrivals, while
 * /proc/net/udp's rx_queue does not (udp_rqueue_get). Its fwd_alloc is the memory reserved in
 * whole pages but not charged: an arrival reserves the pages it lacks (udp_rmem_schedule), a
 * release gives back the pages wholly free (udp_rmem_release). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct sockaddr_in lo = {.sin_family = AF_INET, .sin_addr.s_addr = 0x0100007f};

/* SO_MEMINFO's rmem_alloc, drops and fwd_alloc. */
static void meminfo(int fd, unsigned *rmem, unsigned *drops, unsigned *fwd) {
  unsigned mem[SK_MEMINFO_VARS] = {0};
  socklen_t ml = sizeof mem;
  getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &ml);
  *rmem = mem[SK_MEMINFO_RMEM_ALLOC];
  *drops = mem[SK_MEMINFO_DROPS];
  *fwd = mem[SK_MEMINFO_FWD_ALLOC];
}

/* The rx_queue column of /proc/net/udp for the socket bound to `port` (-1 when not listed). */
static long proc_rx_queue(int port) {
  char line[512];
  long v = -1;
  FILE *f = fopen("/proc/net/udp", "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    unsigned lp;
    unsigned long tx, rx;
    if (sscanf(line, " %*d: %*x:%x %*x:%*x %*x %lx:%lx", &lp, &tx, &rx) == 3 && (int)lp == port) v = rx;
  }
  fclose(f);
  return v;
}

static int readable(int fd) {
  static char buf[2048];
  int n = 0;
  while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0) n++;
  return n;
}

/* 600 datagrams of one byte to UDP, raw and ping sockets with SO_RCVBUF 200000. */
static void large_buffer(void) {
  int udp = socket(AF_INET, SOCK_DGRAM, 0), raw = socket(AF_INET, SOCK_RAW, 253);
  int ping = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), sender = socket(AF_INET, SOCK_DGRAM, 0);
  int fds[] = {udp, raw, ping};
  const char *names[] = {"udp", "raw", "ping"};
  int size = 200000;
  for (int i = 0; i < 3; i++) setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_in a = lo;
  socklen_t al = sizeof a;
  if (bind(udp, (struct sockaddr *)&a, al) || getsockname(udp, (struct sockaddr *)&a, &al)) return;
  unsigned char one = 'x';
  struct icmphdr echo = {.type = ICMP_ECHO};
  unsigned char req[sizeof echo + 1];
  for (int i = 0; i < 600; i++) {
    sendto(sender, &one, 1, 0, (struct sockaddr *)&a, al);
    sendto(raw, &one, 1, 0, (const struct sockaddr *)&lo, sizeof lo);
    echo.un.echo.sequence = htons(i);
    memcpy(req, &echo, sizeof echo);
    req[sizeof echo] = one;
    sendto(ping, req, sizeof req, 0, (const struct sockaddr *)&lo, sizeof lo);
    /* lo delivers each at once natively; the sandbox's stack runs between calls. */
    if (i % 32 == 31) usleep(2000);
  }
  usleep(20000);
  for (int i = 0; i < 3; i++) {
    int got = 0;
    socklen_t gl = sizeof got;
    getsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &got, &gl);
    unsigned rmem, drops, fwd;
    meminfo(fds[i], &rmem, &drops, &fwd);
    printf("%s, SO_RCVBUF %d: rmem %u drops %u fwd %u", names[i], got, rmem, drops, fwd);
    printf(", readable %d\n", readable(fds[i]));
    close(fds[i]);
  }
  close(sender);
}

struct udp_pair {
  int r, s, port;
  struct sockaddr_in a;
};

static struct udp_pair udp_pair(int rcvbuf) {
  struct udp_pair p = {.r = socket(AF_INET, SOCK_DGRAM, 0), .s = socket(AF_INET, SOCK_DGRAM, 0), .a = lo};
  if (rcvbuf >= 0) setsockopt(p.r, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  socklen_t al = sizeof p.a;
  bind(p.r, (struct sockaddr *)&p.a, al);
  getsockname(p.r, (struct sockaddr *)&p.a, &al);
  p.port = ntohs(p.a.sin_port);
  return p;
}

/* Runs `steps` on `p`: rN reads N datagrams, sN sends N, f asks FIONREAD, p peeks; after each
 * step it prints SO_MEMINFO and /proc/net/udp's rx_queue. */
static void steps(const char *title, struct udp_pair p, const char *const *steps) {
  static char buf[64];
  printf("%s\n", title);
  for (; *steps; steps++) {
    const char *st = *steps;
    int n = atoi(st + 1), bad = 0;
    if (*st == 'r') {
      for (int i = 0; i < n; i++) bad += recv(p.r, buf, sizeof buf, MSG_DONTWAIT) < 0;
    } else if (*st == 's') {
      for (int i = 0; i < n; i++) {
        bad += sendto(p.s, buf, 1, 0, (struct sockaddr *)&p.a, sizeof p.a) != 1;
        if (i % 32 == 31) usleep(2000);
      }
      usleep(20000);
    } else if (*st == 'f') {
      int inq = -1;
      bad = ioctl(p.r, FIONREAD, &inq) != 0;
    } else if (*st == 'p') {
      bad = recv(p.r, buf, sizeof buf, MSG_DONTWAIT | MSG_PEEK) < 0;
    }
    unsigned rmem, drops, fwd;
    meminfo(p.r, &rmem, &drops, &fwd);
    printf("  %-4s rmem %u rx_queue %ld drops %u fwd %u%s\n", st, rmem, proc_rx_queue(p.port), drops, fwd,
           bad ? " (failed)" : "");
  }
  close(p.r);
  close(p.s);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
  if (fd < 0 || write(fd, "0 0", 3) != 3) printf("ping_group_range: %s\n", strerrorname_np(errno));
  close(fd);
  large_buffer();
  steps("SO_RCVBUF 100000: given back after 50000 bytes read, or the reader queue's end", udp_pair(100000),
        (const char *const[]){"s100", "r60", "r1", "r38", "r1", NULL});
  steps("SO_RCVBUF 2304: after every second read", udp_pair(2304),
        (const char *const[]){"s5", "r1", "r1", "r1", "r1", "r1", NULL});
  steps("default SO_RCVBUF: a read does not make room at once", udp_pair(-1),
        (const char *const[]){"s300", "r1", "s1", "r63", "s3", "r192", "r3", NULL});
  steps("a read takes what is queued into the reader queue", udp_pair(-1),
        (const char *const[]){"s10", "r1", "s5", "r9", "r1", "r4", NULL});
  steps("so do FIONREAD and a peek", udp_pair(-1),
        (const char *const[]){"s10", "f", "s5", "r9", "r1", "r5", "s10", "p", "s5", "r9", "r1", "r5", NULL});
  return 0;
}
