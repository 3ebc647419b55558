// TCP_SAVE_SYN and TCP_SAVED_SYN against Linux: a listener with TCP_SAVE_SYN 1 keeps each
// incoming SYN's IP and TCP headers, and getsockopt(TCP_SAVED_SYN) on the accepted socket hands
// them out once (then length 0); a buffer too small is EINVAL with the needed length written
// back; 2 also keeps the link-layer header (lo's is an Ethernet header of zeros and the
// ethertype); 0 keeps nothing. The headers are printed by their fields that do not change from
// run to run (not ids, sequence numbers, timestamps, checksums, flow labels): lengths, version,
// TTL and TOS, protocol, ports, flags, data offset, window-independent options. Run natively in a
// fresh network namespace and under tsvisor --network none: the output must be the same.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

static unsigned be16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

// Prints the fields of a saved SYN (`mac` bytes of link header first) that hold from run to run.
static void show(const unsigned char *b, int len, int mac, int client_port, int server_port) {
  if (mac) {
    int zero = 1;
    for (int i = 0; i < 12; i++) zero &= b[i] == 0;
    printf(" mac %s type %#06x;", zero ? "zeros" : "addresses", be16(b + 12));
    b += 14;
    len -= 14;
  }
  int version = b[0] >> 4, iplen, proto;
  if (version == 4) {
    iplen = (b[0] & 15) * 4;
    proto = b[9];
    printf(" ipv4 ihl %d tos %d total %u df %d ttl %d proto %d;", iplen, b[1], be16(b + 2),
           (b[6] & 0x40) != 0, b[8], proto);
  } else {
    iplen = 40;
    proto = b[6];
    printf(" ipv6 class %d payload %u next %d hops %d;", (b[0] & 15) << 4 | b[1] >> 4, be16(b + 4),
           proto, b[7]);
  }
  const unsigned char *t = b + iplen;
  int doff = (t[12] >> 4) * 4;
  printf(" tcp ports %s flags %#x doff %d urg %u;",
         be16(t) == (unsigned)client_port && be16(t + 2) == (unsigned)server_port ? "client->server"
                                                                                   : "other",
         t[13], doff, be16(t + 18));
  printf(" options");
  for (int i = 20; i < doff;) {
    int kind = t[i];
    printf(" %d", kind);
    if (kind == 0) break;
    if (kind == 1) {
      i++;
      continue;
    }
    if (i + 1 >= doff || t[i + 1] < 2) break;
    if (kind == 2) printf("(mss %u)", be16(t + i + 2));
    i += t[i + 1];
  }
  printf("; header bytes %s\n", iplen + doff == len ? "all" : "other");
}

static void saved(int fd, const char *what, int mac, int cport, int sport) {
  unsigned char buf[512];
  socklen_t l = sizeof buf;
  if (getsockopt(fd, IPPROTO_TCP, TCP_SAVED_SYN, buf, &l) < 0) {
    printf("  %s: %s\n", what, err());
    return;
  }
  printf("  %s: len %u", what, l);
  if (l > 0)
    show(buf, (int)l, mac, cport, sport);
  else
    printf("\n");
}

static void run(int family, int save) {
  const char *k = family == AF_INET ? "tcp4" : "tcp6";
  struct sockaddr_storage ss;
  int l = socket(family, SOCK_STREAM, 0);
  socklen_t sl = loopback(family, 0, &ss);
  int r = setsockopt(l, IPPROTO_TCP, TCP_SAVE_SYN, &save, sizeof save);
  int got = -1;
  socklen_t gl = sizeof got;
  getsockopt(l, IPPROTO_TCP, TCP_SAVE_SYN, &got, &gl);
  printf("%s save_syn %d: set %s, reads %d\n", k, save, r < 0 ? err() : "ok", got);
  if (bind(l, (struct sockaddr *)&ss, sl) < 0 || listen(l, 4) < 0) {
    printf("%s listen: %s\n", k, err());
    return;
  }
  int c = socket(family, SOCK_STREAM, 0);
  if (save == 2) {
    // The SYN carries the client's TOS and TTL: the saved header shows them.
    int tos = 0x20, ttl = 9;
    if (family == AF_INET) {
      setsockopt(c, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
      setsockopt(c, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
    } else {
      setsockopt(c, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
      setsockopt(c, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl);
    }
  }
  loopback(family, port_of(l), &ss);
  if (connect(c, (struct sockaddr *)&ss, sl) < 0) {
    printf("%s connect: %s\n", k, err());
    return;
  }
  int s = accept(l, NULL, NULL);
  int cport = port_of(c), sport = peer_port_of(c);
  saved(l, "listener", 0, cport, sport);
  saved(c, "client", 0, cport, sport);
  // Too small a buffer: EINVAL and the length needed, the SYN still kept.
  unsigned char small[8];
  socklen_t sl2 = 4;
  int e = getsockopt(s, IPPROTO_TCP, TCP_SAVED_SYN, small, &sl2);
  printf("  accepted, optlen 4: %s, optlen now %u\n", e < 0 ? err() : "ok", sl2);
  saved(s, "accepted", save == 2, cport, sport);
  saved(s, "accepted again", save == 2, cport, sport);
  // The accepted socket inherits the option.
  got = -1;
  getsockopt(s, IPPROTO_TCP, TCP_SAVE_SYN, &got, &gl);
  printf("  accepted save_syn: %d\n", got);
  close(c);
  close(s);
  close(l);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int bad[] = {-1, 3};
  for (int i = 0; i < 2; i++) {
    int r = setsockopt(fd, IPPROTO_TCP, TCP_SAVE_SYN, &bad[i], sizeof bad[i]);
    printf("save_syn %d: %s\n", bad[i], r < 0 ? err() : "ok");
  }
  close(fd);
  for (int save = 0; save <= 2; save++) {
    run(AF_INET, save);
    run(AF_INET6, save);
  }
  return 0;
}
