/* IP_RECVERR_RFC4884 / IPV6_RECVERR_RFC4884, natively in a fresh network namespace and under
 * tsvisor (recv-err-rfc4884.test.ts). A raw socket on lo sends ICMP (ICMPv6) time exceeded
 * messages quoting a UDP datagram of a connected socket with IP_RECVERR, padded to 128 bytes and
 * followed by an RFC 4884 extension structure; the datagram length field, the extension's
 * version, checksum and object lengths vary. Each error's sock_extended_err is printed: its
 * ee_rfc4884 (where in the queued payload the extension starts, and whether it is invalid) and
 * how many payload bytes were queued. */
#define _GNU_SOURCE
#include "recv-err-util.h"

struct variant {
  const char *what;
  int len_field; /* the datagram length field, in the family's units */
  int version;   /* of the extension header */
  int bad_sum;   /* a wrong extension checksum */
  int obj_len;   /* the object's length field */
};

static const struct variant variants[] = {
    {"valid", -1, 2, 0, 8},
    {"bad checksum", -1, 2, 1, 8},
    {"length field 0", 0, 2, 0, 8},
    {"datagram shorter than 128 bytes", -2, 2, 0, 8},
    {"version 1", -1, 1, 1, 8},
    {"object length 2", -1, 2, 0, 2},
    {"object past the end", -1, 2, 0, 12},
};

/* The ICMP message: header, the quoted datagram (IP and UDP header, then zeros up to 128
 * bytes), the extension header and one 8-byte object. Returns its length. */
static size_t build(int v6, const struct variant *v, const unsigned char *ip, size_t iplen,
                    const unsigned char udp[8], unsigned char *m) {
  size_t dgram = 128, n = 8 + dgram + 12;
  memset(m, 0, n);
  m[0] = v6 ? 3 : 11; /* time exceeded */
  int words = v->len_field == -1 ? (int)dgram / (v6 ? 8 : 4) : v->len_field == -2 ? 64 / (v6 ? 8 : 4) : v->len_field;
  m[v6 ? 4 : 5] = words;
  memcpy(m + 8, ip, iplen);
  memcpy(m + 8 + iplen, udp, 8);
  unsigned char *ext = m + 8 + dgram;
  ext[0] = v->version << 4;
  ext[4] = 0;
  ext[5] = v->obj_len;
  ext[6] = 1;
  ext[7] = 1;
  memcpy(ext + 8, "\1\2\3\4", 4);
  unsigned short c = csum(ext, 12);
  if (v->bad_sum) c ^= 0x1111;
  memcpy(ext + 2, &c, 2);
  if (!v6) {
    c = csum(m, n);
    memcpy(m + 2, &c, 2);
  }
  return n;
}

static void read_queue(int fd) {
  unsigned char buf[256];
  struct errqueue_msg q;
  long n = recv_errqueue(fd, buf, sizeof buf, MSG_DONTWAIT, &q);
  if (n < 0) return;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&q.m); c; c = CMSG_NXTHDR(&q.m, c)) {
    struct sock_extended_err *e = (struct sock_extended_err *)CMSG_DATA(c);
    printf("    errqueue: n %ld ee_errno %s type %u code %u rfc4884 len %u flags %u\n", n, ename(e->ee_errno),
           e->ee_type, e->ee_code, e->ee_rfc4884.len, e->ee_rfc4884.flags);
  }
}

static void family(int v6) {
  int af = v6 ? AF_INET6 : AF_INET;
  int raw = socket(af, SOCK_RAW, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
  int s = socket(af, SOCK_DGRAM, 0);
  /* The raw socket's destination has port 0: rawv6_sendmsg takes a port as the protocol. */
  struct sockaddr_storage dst, rawdst;
  socklen_t dl = loopback(af, 9, &dst);
  loopback(af, 0, &rawdst);
  int one = 1, level = v6 ? SOL_IPV6 : SOL_IP;
  setsockopt(s, level, v6 ? IPV6_RECVERR : IP_RECVERR, &one, sizeof one);
  connect(s, (struct sockaddr *)&dst, dl);
  size_t iplen = v6 ? 40 : 20;
  unsigned char udp[8], ip[40];
  udp_quote(udp, htons(port_of(s)), htons(9), 128 - iplen);
  if (v6)
    quoted_ip6(ip, IPPROTO_UDP, 128 - 40);
  else
    quoted_ip4(ip, htonl(INADDR_LOOPBACK), IPPROTO_UDP, 128, 1);
  printf("%s:\n", v6 ? "udp6" : "udp4");
  for (int on = 0; on <= 1; on++) {
    setsockopt(s, level, v6 ? IPV6_RECVERR_RFC4884 : IP_RECVERR_RFC4884, &on, sizeof on);
    int got = -1;
    socklen_t gl = sizeof got;
    getsockopt(s, level, v6 ? IPV6_RECVERR_RFC4884 : IP_RECVERR_RFC4884, &got, &gl);
    printf("  RFC4884 option %d:\n", got);
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
      if (!on && i > 0) break;
      unsigned char m[256];
      size_t n = build(v6, &variants[i], ip, iplen, udp, m);
      if (sendto(raw, m, n, 0, (struct sockaddr *)&rawdst, dl) != (long)n) printf("  raw send: %s\n", err());
      sleep_ms(20);
      printf("  %s: SO_ERROR %s\n", variants[i].what, ename(so_error(s)));
      read_queue(s);
    }
  }
  close(s);
  close(raw);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  family(0);
  family(1);
  return 0;
}
