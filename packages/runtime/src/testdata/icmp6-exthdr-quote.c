/* ICMPv6 errors that quote a datagram with extension headers, natively in a fresh network
 * namespace and under tsvisor (icmp6-exthdr-quote.test.ts). A raw ICMPv6 socket sends on lo, from
 * and to ::1, destination unreachables (port) and packets too big quoting a UDP datagram of a
 * socket bound to [::1]:P with IPV6_RECVERR, behind a Fragment header (an atomic fragment, a
 * first fragment, a later one), a Destination Options header, both, Hop-by-Hop, Routing and
 * Authentication headers, or a "no next header" (the UDP header behind it all the same).
 * icmpv6_notify skips the extension headers as ipv6_skip_exthdr does: it stops at a Fragment
 * header whose offset is not 0, so that error is for protocol 44, and a "no next header" ends it
 * for nobody. The program prints which of the UDP socket, a raw IPPROTO_UDP socket and a raw
 * IPPROTO_FRAGMENT socket (all with IPV6_RECVERR) hear of each message and what
 * recvmsg(MSG_ERRQUEUE) gives them: the payload from the header after the last one skipped (the
 * random port as PORT); last, where in the payload an RFC 4884 extension after such a quote
 * starts (IPV6_RECVERR_RFC4884). */
#define _GNU_SOURCE
#include "recv-err-util.h"

#define SPORT_TEXT "quoted"

/* Reads one error from `fd`'s queue: length, the payload's first bytes (hex, the random port
 * `port` as "PORT"), the cmsg. */
static void read_queue(const char *who, int fd, unsigned short port) {
  unsigned char buf[128] = {0};
  struct errqueue_msg q;
  printf(" %s:\n", who);
  long n = recv_errqueue(fd, buf, sizeof buf, MSG_DONTWAIT, &q);
  if (n < 0) return;
  printf("  errqueue: n %ld data", n);
  for (long i = 0; i < n && i < 12; i++) {
    if (i + 1 < n && (buf[i] << 8 | buf[i + 1]) == port) {
      printf(" PORT");
      i++;
    } else
      printf(" %02x", buf[i]);
  }
  printf(" msg_flags%s name %s\n", q.m.msg_flags & MSG_ERRQUEUE ? " ERRQUEUE" : "", q.addr);
  print_cmsgs(&q.m, 0);
  /* A second error would be a duplicate delivery. */
  if (recv(fd, buf, sizeof buf, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) printf("  a second error queued\n");
}

/* How the quoted datagram's headers after the IPv6 one look. */
enum layout { ATOMIC, FIRST, LATER, DSTOPT, DSTOPT_ATOMIC, HOP_ROUTING_AH, NONE_NEXT };

static const char *layout_name[] = {"atomic fragment",
                                    "first fragment",
                                    "later fragment (offset 8)",
                                    "destination options",
                                    "destination options, atomic fragment",
                                    "hop-by-hop, routing, authentication",
                                    "no next header"};

/* One extension header: its type (the Next Header naming it) and bytes (Next Header filled in later). */
struct ext {
  int type;
  size_t len;
  unsigned char b[16];
};

/* The Fragment header of offset `off` (bytes, a multiple of 8), M = `more`. */
static struct ext frag(unsigned short off, int more) {
  struct ext e = {.type = IPPROTO_FRAGMENT, .len = 8, .b = {0, 0, off >> 8, (off & 0xf8) | more, 1, 2, 3, 4}};
  return e;
}

/* Destination Options (or Hop-by-Hop, `type` 0) of 8 bytes: a PadN option of 4 bytes fills them. */
static struct ext options(int type) {
  struct ext e = {.type = type, .len = 8, .b = {0, 0, 1, 4}};
  return e;
}

/* Sends an ICMPv6 error of `type`, `code`, `info` quoting a datagram from [::1]:sport to [::1]:9 laid
 * out as `l`; returns nothing, the raw socket's send errors are printed. */
static void send_error(int raw6, int type, int code, unsigned info, enum layout l, unsigned short sport) {
  unsigned char m[8 + 40 + 48 + 8 + sizeof SPORT_TEXT] = {type, code};
  struct ext h[3];
  int nh = 0;
  switch (l) {
  case ATOMIC: h[nh++] = frag(0, 0); break;
  case FIRST: h[nh++] = frag(0, 1); break;
  case LATER: h[nh++] = frag(8, 0); break;
  case DSTOPT: h[nh++] = options(IPPROTO_DSTOPTS); break;
  case DSTOPT_ATOMIC:
    h[nh++] = options(IPPROTO_DSTOPTS);
    h[nh++] = frag(0, 0);
    break;
  case HOP_ROUTING_AH:
    h[nh++] = options(IPPROTO_HOPOPTS);
    /* A type 0 routing header with no segments left, 16 bytes (length 1). */
    h[nh++] = (struct ext){.type = IPPROTO_ROUTING, .len = 16, .b = {0, 1}};
    /* AH of 16 bytes: its length counts 32-bit words less 2. */
    h[nh++] = (struct ext){.type = IPPROTO_AH, .len = 16, .b = {0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}};
    break;
  case NONE_NEXT: break;
  }
  info = htonl(info);
  memcpy(m + 4, &info, 4);
  size_t at = 8 + 40;
  unsigned char *next = 0; /* the Next Header byte naming what comes next, 0: the IPv6 header's */
  int first = IPPROTO_UDP;
  for (int i = 0; i < nh; i++) {
    if (next) *next = h[i].type;
    else first = h[i].type;
    memcpy(m + at, h[i].b, h[i].len);
    next = m + at;
    at += h[i].len;
  }
  if (next) *next = IPPROTO_UDP;
  if (l == NONE_NEXT) first = IPPROTO_NONE;
  size_t udp_len = 8 + strlen(SPORT_TEXT);
  udp_quote(m + at, htons(sport), htons(9), udp_len);
  memcpy(m + at + 8, SPORT_TEXT, strlen(SPORT_TEXT));
  at += udp_len;
  quoted_ip6(m + 8, first, at - 48);
  send_icmp(raw6, AF_INET6, m, at);
}

static int recverr6(int fd) {
  int on = 1;
  return setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof on);
}

/* A time exceeded quoting a 128-byte datagram (IPv6 header, an atomic fragment's header, the UDP
 * header of [::1]:sport, zeros), its length field saying so, then an RFC 4884 extension with one
 * 8-byte object; the socket `fd` with IPV6_RECVERR_RFC4884 shows where in its payload the
 * extension starts (ee_rfc4884.len). */
static void rfc4884(int raw6, int fd, unsigned short sport) {
  unsigned char m[8 + 128 + 12] = {3, 0, 0, 0, 128 / 8};
  quoted_ip6(m + 8, IPPROTO_FRAGMENT, 128 - 40);
  m[48] = IPPROTO_UDP;
  udp_quote(m + 56, htons(sport), htons(9), 128 - 48);
  unsigned char *ext = m + 8 + 128;
  ext[0] = 2 << 4;
  ext[5] = 8;
  ext[6] = 1;
  ext[7] = 1;
  memcpy(ext + 8, "\1\2\3\4", 4);
  unsigned short c = csum(ext, 12);
  memcpy(ext + 2, &c, 2);
  send_icmp(raw6, AF_INET6, m, sizeof m);
  unsigned char buf[256];
  struct errqueue_msg q;
  long n = recv_errqueue(fd, buf, sizeof buf, MSG_DONTWAIT, &q);
  if (n < 0) return;
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&q.m); h; h = CMSG_NXTHDR(&q.m, h)) {
    struct sock_extended_err *e = (struct sock_extended_err *)CMSG_DATA(h);
    printf("  errqueue: n %ld ee_errno %s type %u code %u rfc4884 len %u flags %u\n", n, ename(e->ee_errno),
           e->ee_type, e->ee_code, e->ee_rfc4884.len, e->ee_rfc4884.flags);
  }
}

int main(void) {
  setvbuf(stdout, 0, _IONBF, 0);
  int raw6 = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  if (raw6 < 0) {
    printf("raw ICMPv6 socket: %s\n", err());
    return 1;
  }
  struct {
    int type, code;
    unsigned info;
    const char *name;
  } kinds[] = {{1, 4, 0, "port unreachable"}, {2, 0, 1400, "packet too big 1400"}};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
    for (enum layout l = ATOMIC; l <= NONE_NEXT; l++) {
      int udp = socket(AF_INET6, SOCK_DGRAM, 0);
      struct sockaddr_in6 me = {.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
      bind(udp, (struct sockaddr *)&me, sizeof me);
      unsigned short port = port_of(udp);
      int rawudp = socket(AF_INET6, SOCK_RAW, IPPROTO_UDP);
      int rawfrag = socket(AF_INET6, SOCK_RAW, IPPROTO_FRAGMENT);
      if (recverr6(udp) || recverr6(rawudp) || recverr6(rawfrag)) printf("IPV6_RECVERR: %s\n", err());
      printf("%s quoting: %s\n", kinds[k].name, layout_name[l]);
      send_error(raw6, kinds[k].type, kinds[k].code, kinds[k].info, l, port);
      read_queue("udp socket", udp, port);
      printf("  SO_ERROR: %s\n", ename(so_error(udp)));
      read_queue("raw udp socket", rawudp, port);
      read_queue("raw fragment socket", rawfrag, port);
      close(udp);
      close(rawudp);
      close(rawfrag);
    }
  int udp = socket(AF_INET6, SOCK_DGRAM, 0), on = 1;
  struct sockaddr_in6 me = {.sin6_family = AF_INET6, .sin6_addr = in6addr_loopback};
  bind(udp, (struct sockaddr *)&me, sizeof me);
  if (recverr6(udp) || setsockopt(udp, SOL_IPV6, IPV6_RECVERR_RFC4884, &on, sizeof on))
    printf("IPV6_RECVERR_RFC4884: %s\n", err());
  printf("time exceeded with an RFC 4884 extension quoting: atomic fragment, 128 bytes\n");
  rfc4884(raw6, udp, port_of(udp));
  return 0;
}
