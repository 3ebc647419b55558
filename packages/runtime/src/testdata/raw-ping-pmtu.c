/* The path MTU of raw and ping sockets on lo, natively in a fresh network namespace and under
 * tsvisor (raw-ping-pmtu.test.ts). A raw ICMP socket sends fragmentation-needed messages to
 * 127.0.0.1 quoting an echo request of a ping socket (to 127.0.0.2) and a datagram of a raw
 * socket of protocol 253 (to 127.0.0.3 and 127.0.0.4); each socket then fragments what it sends
 * there to the MTU learnt (ip_append_data's fragsize), unless IP_MTU_DISCOVER holds it to the
 * link's (PROBE) or refuses it (DO: EMSGSIZE), and sets DF on what fits under WANT, DO and
 * PROBE (__ip_make_skb). With IP_HDRINCL the datagram is checked against the device's MTU only;
 * the output path then fragments one without DF to the path MTU and refuses one with DF
 * (ip_fragment: EMSGSIZE, and a fragmentation-needed message to its source), counted in
 * /proc/net/snmp's FragFails and OutDiscards, and such datagrams are not in OutRequests
 * (raw_send_hdrinc passes __ip_local_out by). A packet socket on lo shows each IP packet to
 * those destinations: its length, DF, MF and fragment offset. Then an ICMPv6 packet too big
 * about a ping6 socket's request to ::1 makes its larger requests leave in fragments; IPV6_MTU
 * of the connected ping6 socket shows the route it holds: the one from before the packet too
 * big (ping_err does not update it), let go by the next send (ENOTCONN), then the new one after
 * connect(2) again. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip_icmp.h>

#include "recv-err-util.h"

static int sniff;

/* Prints the IP packets to 127.0.0.2-4 the packet socket saw since the last call. */
static void show_packets(void) {
  unsigned char p[70000];
  long n;
  while ((n = recv(sniff, p, sizeof p, MSG_DONTWAIT)) >= 20) {
    if (p[16] != 127 || p[19] < 2 || p[19] > 4) continue;
    unsigned frag = p[6] << 8 | p[7];
    printf("  to 127.0.0.%u proto %u len %u%s%s offset %u\n", p[19], p[9], p[2] << 8 | p[3],
           frag & 0x4000 ? " DF" : "", frag & 0x2000 ? " MF" : "", (frag & 0x1fff) * 8);
  }
}

/* The oldest queued error: errno, origin, type, code and ee_info. */
static void read_queue(int fd) {
  char buf[64];
  struct errqueue_msg q;
  long n = recv_errqueue(fd, buf, sizeof buf, MSG_DONTWAIT, &q);
  if (n < 0) return;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&q.m); c; c = CMSG_NXTHDR(&q.m, c)) {
    struct sock_extended_err *e = (struct sock_extended_err *)CMSG_DATA(c);
    printf("  errqueue: ee_errno %s origin %u type %u code %u info %u\n", ename(e->ee_errno), e->ee_origin,
           e->ee_type, e->ee_code, e->ee_info);
  }
}

/* A counter of the Ip group of /proc/net/snmp. */
static long ip_counter(const char *name) {
  char names[1024], values[1024];
  long r = -1;
  FILE *f = fopen("/proc/net/snmp", "r");
  while (f && fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
    if (strncmp(names, "Ip:", 3) != 0) continue;
    char *sn, *sv, *n = strtok_r(names, " \n", &sn), *v = strtok_r(values, " \n", &sv);
    while ((n = strtok_r(NULL, " \n", &sn)) && (v = strtok_r(NULL, " \n", &sv)))
      if (strcmp(n, name) == 0) r = atol(v);
  }
  if (f) fclose(f);
  return r;
}

static const char *const OUT_COUNTERS[] = {"OutRequests", "OutDiscards", "FragOKs", "FragFails", "FragCreates"};
#define N_OUT_COUNTERS (sizeof OUT_COUNTERS / sizeof *OUT_COUNTERS)

static void read_out_counters(long *v) {
  for (unsigned i = 0; i < N_OUT_COUNTERS; i++) v[i] = ip_counter(OUT_COUNTERS[i]);
}

/* How the output counters grew since `before`. */
static void show_out_counters(const long *before) {
  long now[N_OUT_COUNTERS];
  read_out_counters(now);
  printf("  Ip");
  for (unsigned i = 0; i < N_OUT_COUNTERS; i++) printf(" %s +%ld", OUT_COUNTERS[i], now[i] - before[i]);
  printf("\n");
}

static int ip_mtu(int fd) {
  int v = -1;
  socklen_t l = sizeof v;
  return getsockopt(fd, SOL_IP, IP_MTU, &v, &l) < 0 ? -errno : v;
}

static void set_pmtudisc(int fd, int mode) { setsockopt(fd, SOL_IP, IP_MTU_DISCOVER, &mode, sizeof mode); }

static struct sockaddr_in to(const char *a) {
  return (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = inet_addr(a)};
}

/* Sends `n` bytes of `m` on `fd` to `dst`, then shows the result and the packets. */
static void send_show(const char *what, int fd, const void *m, size_t n, const char *dst) {
  struct sockaddr_in a = to(dst);
  printf("%s: %s\n", what, res(sendto(fd, m, n, 0, (struct sockaddr *)&a, sizeof a)));
  sleep_ms(20);
  show_packets();
}

static void drain(int fd) {
  static char buf[70000];
  while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0) continue;
}

static void ping(int raw) {
  int p = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
  struct sockaddr_in a = to("127.0.0.2");
  connect(p, (struct sockaddr *)&a, sizeof a);
  struct sockaddr_in me;
  socklen_t ml = sizeof me;
  getsockname(p, (struct sockaddr *)&me, &ml);
  printf("ping connected: IP_MTU %d\n", ip_mtu(p));
  /* The quoted request: type 8, code 0, the socket's identifier. */
  unsigned char l4[8] = {8, 0, 0, 0};
  memcpy(l4 + 4, &me.sin_port, 2);
  icmp4_error(raw, 3, 4, 1200, a.sin_addr.s_addr, IPPROTO_ICMP, 1428, l4);
  printf("frag needed 1200: IP_MTU %d SO_ERROR %s\n", ip_mtu(p), ename(so_error(p)));
  static unsigned char req[1500] = {8};
  send_show("echo of 1400 under WANT", p, req, 1408, "127.0.0.2");
  send_show("echo of 1100 under WANT", p, req, 1108, "127.0.0.2");
  set_pmtudisc(p, IP_PMTUDISC_PROBE);
  send_show("echo of 1400 under PROBE", p, req, 1408, "127.0.0.2");
  set_pmtudisc(p, IP_PMTUDISC_DONT);
  send_show("echo of 1400 under DONT", p, req, 1408, "127.0.0.2");
  send_show("echo of 1100 under DONT", p, req, 1108, "127.0.0.2");
  set_pmtudisc(p, IP_PMTUDISC_DO);
  send_show("echo of 1400 under DO", p, req, 1408, "127.0.0.2");
  char in[2000];
  for (long n; (n = recv(p, in, sizeof in, MSG_DONTWAIT)) >= 0;) printf("  reply %ld\n", n);
  close(p);
}

static void raw253(int raw) {
  /* Takes every datagram of protocol 253, so none is answered with protocol unreachable. */
  int sink = socket(AF_INET, SOCK_RAW, 253);
  int r = socket(AF_INET, SOCK_RAW, 253);
  struct sockaddr_in a = to("127.0.0.3");
  connect(r, (struct sockaddr *)&a, sizeof a);
  printf("raw connected: IP_MTU %d\n", ip_mtu(r));
  static unsigned char l4[8], data[1500];
  icmp4_error(raw, 3, 4, 1000, a.sin_addr.s_addr, 253, 1420, l4);
  printf("frag needed 1000: IP_MTU %d SO_ERROR %s\n", ip_mtu(r), ename(so_error(r)));
  send_show("raw 1400 under WANT", r, data, 1400, "127.0.0.3");
  send_show("raw 900 under WANT", r, data, 900, "127.0.0.3");
  set_pmtudisc(r, IP_PMTUDISC_PROBE);
  send_show("raw 1400 under PROBE", r, data, 1400, "127.0.0.3");
  set_pmtudisc(r, IP_PMTUDISC_DONT);
  send_show("raw 1400 under DONT", r, data, 1400, "127.0.0.3");
  send_show("raw 900 under DONT", r, data, 900, "127.0.0.3");
  set_pmtudisc(r, IP_PMTUDISC_DO);
  send_show("raw 1400 under DO", r, data, 1400, "127.0.0.3");
  close(r);

  /* IP_HDRINCL, to 127.0.0.4 once it has a path MTU of 800. */
  int h = socket(AF_INET, SOCK_RAW, 253);
  int one = 1;
  setsockopt(h, SOL_IP, IP_HDRINCL, &one, sizeof one);
  setsockopt(h, SOL_IP, IP_RECVERR, &one, sizeof one);
  icmp4_error(raw, 3, 4, 800, inet_addr("127.0.0.4"), 253, 1420, l4);
  struct sockaddr_in b = to("127.0.0.4");
  connect(h, (struct sockaddr *)&b, sizeof b);
  printf("hdrincl connected: IP_MTU %d\n", ip_mtu(h));
  drain(h);
  static unsigned char pkt[1500];
  quoted_ip4(pkt, b.sin_addr.s_addr, 253, 1200, 64);
  pkt[6] = 0; /* no DF */
  long counters[N_OUT_COUNTERS];
  read_out_counters(counters);
  send_show("hdrincl 1200 without DF", h, pkt, 1200, "127.0.0.4");
  show_out_counters(counters);
  pkt[6] = 0x40;
  read_out_counters(counters);
  send_show("hdrincl 1200 with DF", h, pkt, 1200, "127.0.0.4");
  show_out_counters(counters);
  read_queue(h);
  printf("  SO_ERROR %s\n", ename(so_error(h)));
  close(h);
  close(sink);
}

static int sniff6;

/* Prints the echo requests and replies among the IPv6 packets the packet socket saw since the
 * last call: payload length, and for a fragment its offset and MF. */
static void show_packets6(void) {
  unsigned char p[70000];
  unsigned request_id = 0, reply_id = 0;
  long n;
  while ((n = recv(sniff6, p, sizeof p, MSG_DONTWAIT)) >= 41) {
    if (p[6] == 44 && n >= 49) {
      unsigned off = p[42] << 8 | p[43], id;
      memcpy(&id, p + 44, 4);
      if ((off & ~7u) == 0 && p[48] == 128) request_id = id;
      if ((off & ~7u) == 0 && p[48] == 129) reply_id = id;
      if (id != request_id && id != reply_id) continue;
      printf("  ipv6 %spayload %u fragment offset %u%s\n", id == reply_id ? "reply " : "", p[4] << 8 | p[5], off & ~7u,
             off & 1 ? " MF" : "");
    } else if (p[6] == 58 && (p[40] == 128 || p[40] == 129)) {
      printf("  ipv6 %spayload %u\n", p[40] == 129 ? "reply " : "", p[4] << 8 | p[5]);
    }
  }
}

/* IPV6_MTU of `fd`, or the errno's name. */
static const char *ipv6_mtu(int fd) {
  static char b[16];
  int v = -1;
  socklen_t l = sizeof v;
  if (getsockopt(fd, SOL_IPV6, IPV6_MTU, &v, &l) < 0) return err();
  snprintf(b, sizeof b, "%d", v);
  return b;
}

static void ping6(void) {
  int raw6 = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  int p = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  connect(p, (struct sockaddr *)&a, sizeof a);
  struct sockaddr_in6 me;
  socklen_t ml = sizeof me;
  getsockname(p, (struct sockaddr *)&me, &ml);
  unsigned char l4[8] = {128, 0, 0, 0};
  memcpy(l4 + 4, &me.sin6_port, 2);
  printf("ping6 connected: IPV6_MTU %s\n", ipv6_mtu(p));
  icmp6_error(raw6, 2, 0, 1300, IPPROTO_ICMPV6, 1408, l4);
  printf("packet too big 1300: IPV6_MTU %s\n", ipv6_mtu(p));
  static unsigned char req[1500] = {128};
  printf("echo6 of 1400 after packet too big 1300: %s\n", res(send(p, req, 1408, 0)));
  sleep_ms(20);
  show_packets6();
  printf("  IPV6_MTU %s\n", ipv6_mtu(p));
  printf("echo6 of 1200: %s\n", res(send(p, req, 1208, 0)));
  sleep_ms(20);
  show_packets6();
  connect(p, (struct sockaddr *)&a, sizeof a);
  printf("connected again: IPV6_MTU %s\n", ipv6_mtu(p));
  close(p);
  close(raw6);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
  if (fd < 0 || write(fd, "0 0", 3) != 3) printf("ping_group_range: %s\n", err());
  close(fd);
  int raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  sniff = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
  struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = if_nametoindex("lo")};
  if (raw < 0 || sniff < 0 || bind(sniff, (struct sockaddr *)&ll, sizeof ll)) {
    printf("sockets: %s\n", err());
    return 1;
  }
  ping(raw);
  raw253(raw);
  struct sockaddr_ll ll6 = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IPV6), .sll_ifindex = if_nametoindex("lo")};
  sniff6 = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IPV6));
  if (sniff6 < 0 || bind(sniff6, (struct sockaddr *)&ll6, sizeof ll6)) printf("packet socket: %s\n", err());
  ping6();
  return 0;
}
