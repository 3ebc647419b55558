/* IPV6_HDRINCL (Linux 4.5+) on raw IPv6 sockets, natively in a fresh network namespace and under
 * tsvisor (raw6-hdrincl.test.ts). The option is an int at SOL_IPV6 (or SOL_RAW) that only raw
 * IPv6 sockets know (do_rawv6_setsockopt; do_rawv6_getsockopt reads a negative optlen as
 * unsigned); IPPROTO_RAW sockets start with it on (inet6_create) and may turn it off. With it a
 * send is the whole IPv6 datagram as the caller wrote it (rawv6_send_hdrinc): nothing in the
 * header is filled in, not even the payload length; the next header need not be the socket's
 * protocol, though a destination port naming another one is EINVAL (except for IPPROTO_RAW); a
 * datagram shorter than the IPv6 header is EINVAL, one larger than the device's MTU EMSGSIZE
 * with a local error. One larger than the path MTU is refused by the output path whatever
 * IPV6_MTU_DISCOVER says below PROBE (ip6_fragment without ignore_df: EMSGSIZE, Ip6FragFails,
 * Ip6OutDiscards, and a packet too big to its source, which the socket queues from the IPv6
 * header on). A packet socket on lo shows what left: next header, payload length field, hop
 * limit and size; a raw socket of protocol 253 what arrived. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>

#include "recv-err-util.h"

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36
#endif

static int sniff;

/* Prints the IPv6 packets the packet socket saw since the last call (of ICMPv6 only the errors). */
static void show_packets(void) {
  static unsigned char p[70000];
  long n;
  while ((n = recv(sniff, p, sizeof p, MSG_DONTWAIT)) >= 40) {
    if (p[6] == 58 && n > 40 && p[40] >= 128) continue;
    printf("  next header %u payload length %u hop limit %u, %ld bytes", p[6], p[4] << 8 | p[5], p[7], n);
    if (p[6] == 58 && n >= 48)
      printf(": icmpv6 type %u code %u info %u", p[40], p[41], p[44] << 24 | p[45] << 16 | p[46] << 8 | p[47]);
    printf("\n");
  }
}

/* IPV6_HDRINCL of `fd` at `level`, or the errno's name. */
static const char *get_hdrincl(int fd, int level) {
  static char b[32];
  int v = -1;
  socklen_t l = sizeof v;
  if (getsockopt(fd, level, IPV6_HDRINCL, &v, &l) < 0) return err();
  snprintf(b, sizeof b, "%d", v);
  return b;
}

/* setsockopt(IPV6_HDRINCL) of `fd` at `level` to `v`: 0 or the errno's name. */
static const char *set_hdrincl(int fd, int level, int v) {
  return res(setsockopt(fd, level, IPV6_HDRINCL, &v, sizeof v));
}

/* Which sockets know the option, at which level; its values and lengths on an ICMPv6 one. */
static void options(void) {
  struct {
    const char *name;
    int family, type, proto;
  } s[] = {
      {"raw6 IPPROTO_RAW", AF_INET6, SOCK_RAW, IPPROTO_RAW},
      {"raw6 ICMPV6", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6},
      {"raw6 253", AF_INET6, SOCK_RAW, 253},
      {"ping6", AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6},
      {"udp6", AF_INET6, SOCK_DGRAM, 0},
      {"tcp6", AF_INET6, SOCK_STREAM, 0},
      {"raw4 253", AF_INET, SOCK_RAW, 253},
  };
  for (unsigned i = 0; i < sizeof s / sizeof *s; i++) {
    int fd = socket(s[i].family, s[i].type, s[i].proto);
    printf("%s: get %s", s[i].name, get_hdrincl(fd, SOL_IPV6));
    printf(", set 1 %s", set_hdrincl(fd, SOL_IPV6, 1));
    printf(", get %s", get_hdrincl(fd, SOL_IPV6));
    printf(", SOL_RAW get %s", get_hdrincl(fd, SOL_RAW));
    printf(", set 0 %s", set_hdrincl(fd, SOL_RAW, 0));
    printf(", get %s\n", get_hdrincl(fd, SOL_IPV6));
    close(fd);
  }
  int fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  printf("set 7: %s", set_hdrincl(fd, SOL_IPV6, 7));
  printf(", get %s\n", get_hdrincl(fd, SOL_IPV6));
  short two = 0;
  printf("set 0 with optlen 2: %s", res(setsockopt(fd, SOL_IPV6, IPV6_HDRINCL, &two, sizeof two)));
  printf(", get %s\n", get_hdrincl(fd, SOL_IPV6));
  long long eight = 0;
  printf("set 0 with optlen 8: %s", res(setsockopt(fd, SOL_IPV6, IPV6_HDRINCL, &eight, sizeof eight)));
  printf(", get %s\n", get_hdrincl(fd, SOL_IPV6));
  set_hdrincl(fd, SOL_IPV6, 1);
  unsigned char b[8];
  for (int len = 0; len <= 8; len += 2) {
    memset(b, 0xee, sizeof b);
    socklen_t l = len;
    int r = getsockopt(fd, SOL_IPV6, IPV6_HDRINCL, b, &l);
    printf("get with optlen %d: %s, optlen %u, bytes %02x %02x %02x %02x %02x\n", len, res(r), l, b[0], b[1], b[2],
           b[3], b[4]);
  }
  socklen_t l = -1;
  memset(b, 0xee, sizeof b);
  int r = getsockopt(fd, SOL_IPV6, IPV6_HDRINCL, b, &l);
  printf("get with optlen -1: %s, optlen %u, bytes %02x %02x %02x %02x %02x\n", res(r), l, b[0], b[1], b[2], b[3],
         b[4]);
  l = -1;
  r = getsockopt(fd, SOL_RAW, IPV6_CHECKSUM, b, &l);
  printf("IPV6_CHECKSUM with optlen -1: %s, optlen %u\n", res(r), l);
  l = -1;
  r = getsockopt(fd, SOL_ICMPV6, ICMP6_FILTER, b, &l);
  printf("ICMP6_FILTER with optlen -1: %s\n", res(r));
  printf("set with a bad pointer: %s\n", res(setsockopt(fd, SOL_IPV6, IPV6_HDRINCL, (void *)8, 4)));
  close(fd);
}

/* In `d`, an IPv6 datagram of `len` bytes from `src` (the last byte of ::N) to ::1 with next
 * header `nh`, hop limit 9 and payload length field `plen`. */
static void datagram(unsigned char *d, size_t len, int src, int nh, int plen) {
  memset(d, 0, len);
  d[0] = 0x60;
  d[4] = plen >> 8;
  d[5] = plen & 0xff;
  d[6] = nh;
  d[7] = 9;
  d[23] = src;
  d[39] = 1;
  for (size_t i = 40; i < len; i++) d[i] = i;
}

static struct sockaddr_in6 to_lo(int port) {
  return (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
}

/* Sends `len` bytes of `d` on `fd` to ::1 with `port`; prints the result, what left and what the
 * sink (a raw socket of protocol 253) received. */
static void send_show(const char *what, int fd, const unsigned char *d, size_t len, int port, int sink) {
  struct sockaddr_in6 a = to_lo(port);
  printf("%s: %s\n", what, res(sendto(fd, d, len, 0, (struct sockaddr *)&a, sizeof a)));
  sleep_ms(20);
  show_packets();
  static unsigned char in[70000];
  for (long n; (n = recv(sink, in, sizeof in, MSG_DONTWAIT)) >= 0;) printf("  sink received %ld\n", n);
}

/* A counter of /proc/net/snmp6. */
static long snmp6(const char *name) {
  FILE *f = fopen("/proc/net/snmp6", "r");
  char k[64];
  long v, r = -1;
  while (f && fscanf(f, "%63s %ld", k, &v) == 2)
    if (!strcmp(k, name)) r = v;
  if (f) fclose(f);
  return r;
}

/* The oldest queued error: its length, origin address and sock_extended_err. */
static void read_queue(int fd) {
  char buf[64];
  struct errqueue_msg q;
  long n = recv_errqueue(fd, buf, sizeof buf, MSG_DONTWAIT, &q);
  if (n < 0) return;
  printf("  errqueue %ld bytes from %s\n", n, q.addr);
  print_cmsgs(&q.m, 0);
}

/* Sends on sockets of protocol 253 and IPPROTO_RAW with and without the option, then after ::1
 * learnt a path MTU of 1300. */
static void sends(void) {
  int sink = socket(AF_INET6, SOCK_RAW, 253);
  int h = socket(AF_INET6, SOCK_RAW, 253);
  int one = 1;
  setsockopt(h, SOL_IPV6, IPV6_HDRINCL, &one, sizeof one);
  setsockopt(h, SOL_IPV6, IPV6_RECVERR, &one, sizeof one);
  static unsigned char d[70000];
  datagram(d, 140, 1, 253, 100);
  send_show("hdrincl 140", h, d, 140, 0, sink);
  send_show("hdrincl 140 to port 253", h, d, 140, 253, sink);
  send_show("hdrincl 140 to port 17", h, d, 140, 17, sink);
  datagram(d, 140, 1, 253, 60);
  send_show("hdrincl 140, payload length 60", h, d, 140, 0, sink);
  /* Longer than the datagram: ipv6_rcv drops it. */
  datagram(d, 140, 1, 253, 1000);
  send_show("hdrincl 140, payload length 1000", h, d, 140, 0, sink);
  datagram(d, 140, 0, 253, 100);
  send_show("hdrincl 140 from ::", h, d, 140, 0, sink);
  /* (A raw socket takes it, so no parameter problem answers it.) */
  int sink254 = socket(AF_INET6, SOCK_RAW, 254);
  datagram(d, 140, 1, 254, 100);
  send_show("hdrincl 140, next header 254", h, d, 140, 0, sink254);
  close(sink254);
  datagram(d, 40, 1, 253, 0);
  send_show("hdrincl 40", h, d, 40, 0, sink);
  send_show("hdrincl 39", h, d, 39, 0, sink);
  send_show("hdrincl 0", h, d, 0, 0, sink);
  datagram(d, 65537, 1, 253, 0);
  send_show("hdrincl 65537", h, d, 65537, 0, sink);
  read_queue(h);
  printf("  SO_ERROR %s\n", ename(so_error(h)));

  int r = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
  datagram(d, 140, 1, 253, 100);
  send_show("IPPROTO_RAW 140 to port 17", r, d, 140, 17, sink);
  send_show("IPPROTO_RAW 140 to port 256", r, d, 140, 256, sink);
  /* Without the option the stack builds the header, with the port as its next header. */
  int zero = 0;
  setsockopt(r, SOL_IPV6, IPV6_HDRINCL, &zero, sizeof zero);
  int sink255 = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
  send_show("IPPROTO_RAW without IPV6_HDRINCL 100", r, d, 100, 0, sink255);
  close(sink255);
  send_show("IPPROTO_RAW without IPV6_HDRINCL 100 to port 253", r, d, 100, 253, sink);
  close(r);

  /* ::1 learns a path MTU of 1300 from a packet too big quoting a datagram of protocol 253. */
  int raw6 = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  unsigned char l4[8] = {0};
  icmp6_error(raw6, 2, 0, 1300, 253, 1400, l4);
  show_packets();
  read_queue(h);
  printf("  SO_ERROR %s\n", ename(so_error(h)));
  datagram(d, 1300, 1, 253, 1260);
  send_show("hdrincl 1300 after packet too big 1300", h, d, 1300, 0, sink);
  long fails = snmp6("Ip6FragFails"), discards = snmp6("Ip6OutDiscards"), requests = snmp6("Ip6OutRequests");
  datagram(d, 1400, 1, 253, 1360);
  send_show("hdrincl 1400", h, d, 1400, 0, sink);
  printf("  Ip6FragFails +%ld Ip6OutDiscards +%ld Ip6OutRequests +%ld\n", snmp6("Ip6FragFails") - fails,
         snmp6("Ip6OutDiscards") - discards, snmp6("Ip6OutRequests") - requests);
  read_queue(h);
  printf("  SO_ERROR %s\n", ename(so_error(h)));
  int probe = IPV6_PMTUDISC_PROBE;
  setsockopt(h, SOL_IPV6, IPV6_MTU_DISCOVER, &probe, sizeof probe);
  send_show("hdrincl 1400 under PROBE", h, d, 1400, 0, sink);
  /* Unlike a datagram the stack builds, not fragmented under DONT either. */
  int dont = IPV6_PMTUDISC_DONT;
  setsockopt(h, SOL_IPV6, IPV6_MTU_DISCOVER, &dont, sizeof dont);
  send_show("hdrincl 1400 under DONT", h, d, 1400, 0, sink);
  read_queue(h);
  close(raw6);
  close(h);
  close(sink);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  /* Lets ping sockets be made, to show that they do not know the option. */
  int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);
  if (fd < 0 || write(fd, "0 0", 3) != 3) printf("ping_group_range: %s\n", err());
  close(fd);
  sniff = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IPV6));
  struct sockaddr_ll ll = {
      .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IPV6), .sll_ifindex = if_nametoindex("lo")};
  if (sniff < 0 || bind(sniff, (struct sockaddr *)&ll, sizeof ll)) {
    printf("packet socket: %s\n", err());
    return 1;
  }
  options();
  sends();
  return 0;
}
