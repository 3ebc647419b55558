/* The TOS (IPv4) or traffic class (IPv6) of the segments TCP sends in answer to one it received,
 * over loopback, as a raw socket sees them, and net.ipv4.tcp_reflect_tos:
 * - a RST (a closed port, a listener's bad ACK) comes from the stack's control socket with the
 *   received segment's TOS less its ECN bits (tcp_v4_send_reset's arg.tos, which
 *   ip_send_unicast_reply masks; tcp_v6_send_reset's ipv6_get_dsfield & ~INET_ECN_MASK),
 *   and the sysctl's TTL or hop limit, whatever the listener's;
 * - so do a pending request's ACK to an out-of-window segment (tcp_v4_reqsk_send_ack,
 *   tcp_v6_reqsk_send_ack) and the RST to an ACK not of its SYN-ACK (tcp_check_req hands that
 *   to the listener before it looks at the sequence number);
 * - a TIME_WAIT's ACK the TOS its socket had (tw_tos, tw_tclass) and the sysctl's TTL;
 * - tcp_reflect_tos (0 or 1, for both families) makes a SYN-ACK carry the SYN's DSCP with the
 *   listener's ECN bits (tcp_v4_send_synack, tcp_v6_send_synack), SYN cookies' too, and the
 *   connection the SYN's DSCP (tcp_v4_syn_recv_sock, tcp_v6_syn_recv_sock).
 * Crafted segments leave a raw socket with IP_TOS or IPV6_TCLASS of the whole byte (a TCP socket
 * keeps its ECN bits out of IP_TOS). Run in a fresh network namespace (lo up) and under tsvisor,
 * the output must be the same. Every sysctl written is restored. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>

#include "sysctl-util.h"

static struct segment segs[256];

/* The distinct TOS bytes ("tos" set) or TTLs of the captured segments from `sport` whose flags
 * are exactly `flags`, as " 0x48" or " 64". */
static const char *exact(int n, int sport, int flags, int tos) {
  const char *v = segment_values(segs, n, sport, flags, tos, 1);
  return *v ? v : " none";
}

static uint32_t sum16(const void *p, size_t len, uint32_t s) {
  const unsigned char *b = p;
  for (size_t i = 0; i + 1 < len; i += 2) s += b[i] << 8 | b[i + 1];
  if (len & 1) s += b[len - 1] << 8;
  return s;
}

/* Sends, from raw socket `out` (IPPROTO_TCP) with TOS or traffic class `tos`, a 20-byte TCP
 * segment from loopback port `sport` to loopback port `dport` with `flags`, `seq` and `ack`. */
static void craft(int out, int family, int tos, int sport, int dport, int flags, uint32_t seq, uint32_t ack) {
  unsigned char t[20] = {0};
  t[0] = sport >> 8, t[1] = sport, t[2] = dport >> 8, t[3] = dport;
  t[4] = seq >> 24, t[5] = seq >> 16, t[6] = seq >> 8, t[7] = seq;
  t[8] = ack >> 24, t[9] = ack >> 16, t[10] = ack >> 8, t[11] = ack;
  t[12] = 5 << 4, t[13] = flags, t[14] = 0xff, t[15] = 0xff;
  /* The pseudo-header: loopback to loopback, protocol 6, length 20. */
  uint32_t s = 6 + 20;
  if (family == AF_INET) s += 2 * 0x7f00 + 2 * 0x0001;
  else s += 2;
  s = sum16(t, sizeof t, s);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  uint16_t c = ~s;
  t[16] = c >> 8, t[17] = c;
  int v6 = family == AF_INET6;
  setsockopt(out, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS : IP_TOS, &tos, sizeof tos);
  struct sockaddr_storage a;
  sendto(out, t, sizeof t, 0, (struct sockaddr *)&a, loopback_of(family, 0, &a));
}

/* A raw TCP socket of `family` that sees TCP segments with their hop limit and traffic class. */
static int raw_tcp(int family) {
  int r = socket(family, SOCK_RAW, IPPROTO_TCP), one = 1;
  if (family == AF_INET6) {
    setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
    setsockopt(r, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof one);
  }
  return r;
}

static int get_tos(int s, int family) {
  int v = -1, v6 = family == AF_INET6;
  socklen_t len = sizeof v;
  getsockopt(s, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS : IP_TOS, &v, &len);
  return v;
}

static void replies(int family) {
  const char *name = family == AF_INET ? "ipv4" : "ipv6";
  int raw = raw_tcp(family), n, lport;
  capture_segments(raw, family, segs, 256);

  /* A closed port: a listener's port once it is closed. */
  int l = loopback_listener(family, &lport);
  close(l);
  int c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  set_ttl_tos(c, family, -1, 0x28);
  struct sockaddr_storage a;
  connect(c, (struct sockaddr *)&a, loopback_of(family, lport, &a));
  n = capture_segments(raw, family, segs, 256);
  printf("%s: closed port, SYN from a socket with 0x28: RST%s", name, exact(n, lport, TH_RST | TH_ACK, 1));
  close(c);
  craft(raw, family, 0x2b, 40001, lport, TH_SYN, 1000, 0);
  n = capture_segments(raw, family, segs, 256);
  printf("; crafted SYN 0x2b: RST%s", exact(n, lport, TH_RST | TH_ACK, 1));
  craft(raw, family, 0xfe, 40001, lport, TH_ACK, 1000, 5000);
  n = capture_segments(raw, family, segs, 256);
  printf("; ACK 0xfe: RST%s\n", exact(n, lport, TH_RST, 1));

  /* A listener with its own TOS answers an ACK it has no request for with a RST. */
  l = loopback_listener(family, &lport);
  set_ttl_tos(l, family, 21, 0x20);
  craft(raw, family, 0x49, 40002, lport, TH_ACK, 1000, 5000);
  n = capture_segments(raw, family, segs, 256);
  printf("%s: listener 21 0x20, crafted ACK 0x49: RST%s%s", name, exact(n, lport, TH_RST, 1),
         exact(n, lport, TH_RST, 0));

  /* A pending request (its peer never answers the SYN-ACK): an out-of-window segment without
   * ACK gets an ACK, one with a wrong ACK a RST. */
  c = loopback_connect(family, lport, 1);
  int cport = bound_port(c);
  capture_segments(raw, family, segs, 256);
  craft(raw, family, 0x65, cport, lport, TH_PUSH, 7, 0);
  n = capture_segments(raw, family, segs, 256);
  printf("; its request, out-of-window 0x65: ACK%s%s", exact(n, lport, TH_ACK, 1), exact(n, lport, TH_ACK, 0));
  craft(raw, family, 0x66, cport, lport, TH_ACK, 7, 7);
  n = capture_segments(raw, family, segs, 256);
  printf(", bad ACK 0x66: RST%s%s\n", exact(n, lport, TH_RST, 1), exact(n, lport, TH_RST, 0));
  close(c);
  close(l);
  close(raw);
}

/* The ACK a TIME_WAIT (of an accepted socket with 33 0x60 that closed first) sends to a crafted
 * out-of-window ACK. */
static void time_wait(int family) {
  const char *name = family == AF_INET ? "ipv4" : "ipv6";
  int raw = raw_tcp(family), n, lport;
  int l = loopback_listener(family, &lport);
  int c = loopback_connect(family, lport, 0);
  int cport = bound_port(c);
  wait_for(c, POLLOUT);
  int s = accept_soon(l);
  set_ttl_tos(s, family, 33, 0x60);
  close(s);
  wait_for(c, POLLIN);
  close(c);
  close(l);
  capture_segments(raw, family, segs, 256);
  craft(raw, family, 0x89, cport, lport, TH_ACK, 12345, 12345);
  n = capture_segments(raw, family, segs, 256);
  printf("%s: TIME_WAIT of a socket with 33 0x60, crafted ACK 0x89: ACK%s%s\n", name, exact(n, lport, TH_ACK, 1),
         exact(n, lport, TH_ACK, 0));
  close(raw);
}

/* tcp_reflect_tos 1 (or 0): SYN-ACKs and connections of a listener with 0x20. */
static void reflect(int family, const char *value) {
  const char *name = family == AF_INET ? "ipv4" : "ipv6";
  int raw = raw_tcp(family), n, lport;
  printf("%s: tcp_reflect_tos %s: %s", name, value, sysctl("ipv4/tcp_reflect_tos", value));
  int l = loopback_listener(family, &lport);
  set_ttl_tos(l, family, -1, 0x20);
  int c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  set_ttl_tos(c, family, -1, 0x48);
  struct sockaddr_storage a;
  connect(c, (struct sockaddr *)&a, loopback_of(family, lport, &a));
  wait_for(c, POLLOUT);
  int s = accept_soon(l);
  char b;
  send(s, "y", 1, 0);
  wait_for(c, POLLIN);
  recv(c, &b, 1, MSG_DONTWAIT);
  n = capture_segments(raw, family, segs, 256);
  printf(", SYN 0x48 to a listener with 0x20: SYN-ACK%s, accepted IP_TOS 0x%x, data%s",
         exact(n, lport, TH_SYN | TH_ACK, 1), get_tos(s, family), exact(n, lport, TH_ACK | TH_PUSH, 1));
  close(s);
  close(c);
  craft(raw, family, 0x4b, 40003, lport, TH_SYN, 1000, 0);
  n = capture_segments(raw, family, segs, 256);
  printf("; crafted SYN 0x4b: SYN-ACK%s", exact(n, lport, TH_SYN | TH_ACK, 1));

  char was[16];
  snprintf(was, sizeof was, "%s", show("ipv4/tcp_syncookies"));
  sysctl("ipv4/tcp_syncookies", "2");
  c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  set_ttl_tos(c, family, -1, 0x48);
  connect(c, (struct sockaddr *)&a, loopback_of(family, lport, &a));
  wait_for(c, POLLOUT);
  s = accept_soon(l);
  send(s, "y", 1, 0);
  wait_for(c, POLLIN);
  recv(c, &b, 1, MSG_DONTWAIT);
  n = capture_segments(raw, family, segs, 256);
  printf("; cookies: SYN-ACK%s, accepted IP_TOS 0x%x, data%s\n", exact(n, lport, TH_SYN | TH_ACK, 1),
         get_tos(s, family), exact(n, lport, TH_ACK | TH_PUSH, 1));
  sysctl("ipv4/tcp_syncookies", was);
  close(s);
  close(c);
  close(l);
  close(raw);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  char was[16];
  snprintf(was, sizeof was, "%s", show("ipv4/tcp_reflect_tos"));
  printf("tcp_reflect_tos %s; write 2: %s", was, sysctl("ipv4/tcp_reflect_tos", "2"));
  printf(", -1: %s", sysctl("ipv4/tcp_reflect_tos", "-1"));
  printf(", 1: %s", sysctl("ipv4/tcp_reflect_tos", "1"));
  printf(", reads %s", show("ipv4/tcp_reflect_tos"));
  printf(", 0: %s\n", sysctl("ipv4/tcp_reflect_tos", "0"));
  replies(AF_INET);
  replies(AF_INET6);
  time_wait(AF_INET);
  time_wait(AF_INET6);
  reflect(AF_INET, "0");
  reflect(AF_INET, "1");
  reflect(AF_INET6, "1");
  sysctl("ipv4/tcp_reflect_tos", was);
  return 0;
}
