/* A datagram of a protocol nothing on the host takes, natively in a fresh network namespace and
 * under tsvisor (proto-unreach.test.ts). Raw sockets of protocol 253 (RFC 3692's experimentation
 * number) send to 127.0.0.1 from 127.0.0.2, and to ::1 from fd00::2 (an address the program adds to
 * lo), so that they do not take their own datagrams: IPv4 answers with a protocol unreachable
 * (ip_protocol_deliver_rcu), IPv6 with a parameter problem, unrecognized next header, pointing at
 * the Next Header byte that named the protocol (ip6_protocol_deliver_rcu). Printed for each case:
 * what the sender's next calls give (the errno icmp_err_convert / icmpv6_err_convert map the
 * error to), every field of its error queue entry with IP_RECVERR / IPV6_RECVERR, the ICMP message
 * a raw ICMP socket saw, and how the IP and ICMP counters of /proc/net/snmp and /proc/net/snmp6
 * moved. No answer when a raw socket of the protocol took the datagram, nor to a broadcast one;
 * the pointer after a Fragment header (an atomic fragment) and in a reassembled datagram. */
#define _GNU_SOURCE
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "recv-err-util.h"
#include "proc-util.h"

#define PROTO 253
#define TEXT "unknown protocol"
#define FAR6 "fd00::2"

/* An errno's name, "0" for none. */
static const char *errname(int e) { return e ? strerrorname_np(e) : "0"; }

/* ---- counters ---- */

static const char *const names4[] = {"Ip.InDelivers", "Ip.InUnknownProtos", "Icmp.InMsgs",
                                     "Icmp.InDestUnreachs", "Icmp.OutMsgs", "Icmp.OutDestUnreachs"};
static const char *const names6[] = {"Ip6InDelivers", "Ip6InUnknownProtos", "Icmp6InMsgs",
                                     "Icmp6InParmProblems", "Icmp6OutMsgs", "Icmp6OutParmProblems"};
#define NCOUNTERS 6

/* "Group.Name" from /proc/net/snmp's pairs of "Group: names" and "Group: values" lines. */
static long long snmp(const char *dotted) {
  char group[32], name[64];
  const char *dot = strchr(dotted, '.');
  snprintf(group, sizeof group, "%.*s:", (int)(dot - dotted), dotted);
  snprintf(name, sizeof name, "%s", dot + 1);
  char *save = NULL;
  for (char *names = strtok_r(slurp("/proc/net/snmp"), "\n", &save); names; names = strtok_r(NULL, "\n", &save)) {
    char *values = strtok_r(NULL, "\n", &save);
    if (!values || strncmp(names, group, strlen(group)) != 0) continue;
    char *s1 = NULL, *s2 = NULL;
    char *n = strtok_r(names + strlen(group), " ", &s1), *v = strtok_r(values + strlen(group), " ", &s2);
    for (; n && v; n = strtok_r(NULL, " ", &s1), v = strtok_r(NULL, " ", &s2))
      if (strcmp(n, name) == 0) return atoll(v);
  }
  return -1;
}

/* A "Name value" line of /proc/net/snmp6. */
static long long snmp6(const char *name) {
  char *save = NULL;
  for (char *line = strtok_r(slurp("/proc/net/snmp6"), "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char n[64];
    long long v;
    if (sscanf(line, "%63s %lld", n, &v) == 2 && strcmp(n, name) == 0) return v;
  }
  return -1;
}

struct counters {
  int family;
  long long v[NCOUNTERS];
};

static struct counters counters(int family) {
  struct counters c = {.family = family};
  for (int i = 0; i < NCOUNTERS; i++) c.v[i] = family == AF_INET ? snmp(names4[i]) : snmp6(names6[i]);
  return c;
}

/* How the counters moved since `before`. */
static void show_counters(const struct counters *before) {
  struct counters after = counters(before->family);
  printf("  counters:");
  for (int i = 0; i < NCOUNTERS; i++)
    printf(" %s %+lld", before->family == AF_INET ? names4[i] : names6[i], after.v[i] - before->v[i]);
  printf("\n");
}

/* ---- addresses and sockets ---- */

static struct sockaddr_in sin4(const char *ip) {
  struct sockaddr_in a = {.sin_family = AF_INET};
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static struct sockaddr_in6 sin6(const char *ip) {
  struct sockaddr_in6 a = {.sin6_family = AF_INET6};
  inet_pton(AF_INET6, ip, &a.sin6_addr);
  return a;
}

/* Adds fd00::2/128 to lo (ifindex 1) through rtnetlink; prints the answer's errno. */
static void add_far6(void) {
  struct {
    struct nlmsghdr h;
    struct ifaddrmsg m;
    char attrs[64];
  } req = {.h = {.nlmsg_type = RTM_NEWADDR, .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL},
           .m = {.ifa_family = AF_INET6, .ifa_prefixlen = 128, .ifa_index = 1}};
  struct rtattr *a = (void *)req.attrs;
  a->rta_type = IFA_LOCAL;
  a->rta_len = RTA_LENGTH(16);
  inet_pton(AF_INET6, FAR6, RTA_DATA(a));
  struct rtattr *f = (void *)(req.attrs + RTA_ALIGN(a->rta_len));
  f->rta_type = IFA_FLAGS;
  f->rta_len = RTA_LENGTH(4);
  *(unsigned *)RTA_DATA(f) = IFA_F_NODAD;
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof req.m) + RTA_ALIGN(a->rta_len) + RTA_ALIGN(f->rta_len);
  int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  struct sockaddr_nl k = {.nl_family = AF_NETLINK};
  char answer[1024];
  if (sendto(nl, &req, req.h.nlmsg_len, 0, (void *)&k, sizeof k) < 0 || recv(nl, answer, sizeof answer, 0) < 0) {
    printf("add %s/128 to lo: %s\n", FAR6, err());
    exit(1);
  }
  const struct nlmsgerr *e = NLMSG_DATA((struct nlmsghdr *)answer);
  printf("add %s/128 to lo: %s\n", FAR6, ename(-e->error));
  close(nl);
  /* Natively the address takes a moment after the answer to receive (DAD's work, even without
   * DAD): wait until a UDP datagram from ::1 reaches it. */
  int r = socket(AF_INET6, SOCK_DGRAM, 0), t = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 far = sin6(FAR6);
  socklen_t len = sizeof far;
  for (int i = 0; i < 200 && bind(r, (void *)&far, sizeof far) < 0; i++) sleep_ms(10);
  getsockname(r, (void *)&far, &len);
  struct pollfd p = {.fd = r, .events = POLLIN};
  int i = 0;
  for (; i < 200 && !p.revents; i++) {
    sendto(t, "x", 1, 0, (void *)&far, sizeof far);
    poll(&p, 1, 10);
  }
  if (!p.revents) printf("%s never reached\n", FAR6);
  close(r);
  close(t);
}

/* A raw socket of PROTO bound to `local`, with IP_RECVERR / IPV6_RECVERR when `recverr`. */
static int sender(int family, const char *local, int recverr) {
  int s = socket(family, SOCK_RAW, PROTO), one = 1;
  if (family == AF_INET) {
    struct sockaddr_in a = sin4(local);
    if (bind(s, (void *)&a, sizeof a) < 0) printf("  bind: %s\n", err());
    if (recverr) setsockopt(s, SOL_IP, IP_RECVERR, &one, sizeof one);
  } else {
    struct sockaddr_in6 a = sin6(local);
    if (bind(s, (void *)&a, sizeof a) < 0) printf("  bind: %s\n", err());
    if (recverr) setsockopt(s, SOL_IPV6, IPV6_RECVERR, &one, sizeof one);
  }
  return s;
}

static int dest(int family, const char *ip, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    *(struct sockaddr_in *)ss = sin4(ip);
    return sizeof(struct sockaddr_in);
  }
  *(struct sockaddr_in6 *)ss = sin6(ip);
  return sizeof(struct sockaddr_in6);
}

static void send_text(int s, int family, const char *to) {
  struct sockaddr_storage ss;
  socklen_t len = to ? dest(family, to, &ss) : 0;
  long n = to ? sendto(s, TEXT, strlen(TEXT), 0, (void *)&ss, len) : send(s, TEXT, strlen(TEXT), 0);
  printf("  send: %s\n", res_rc(n));
}

/* A raw ICMP or ICMPv6 socket that sees what the stack answers with. */
static int sniffer(int family) {
  int s = socket(family, SOCK_RAW, family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6), one = 1;
  if (family == AF_INET6) {
    setsockopt(s, SOL_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
    setsockopt(s, SOL_IPV6, IPV6_RECVTCLASS, &one, sizeof one);
  }
  return s;
}

static void quoted4(const unsigned char *q, long n) {
  char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
  if (n < 20) {
    printf(" quoting %ld bytes", n);
    return;
  }
  int hl = (q[0] & 15) * 4;
  inet_ntop(AF_INET, q + 12, a, sizeof a);
  inet_ntop(AF_INET, q + 16, b, sizeof b);
  printf(" quoting %ld bytes: tos 0x%02x protocol %u %s > %s total length %u data \"%.*s\"", n, q[1], q[9], a, b,
         q[2] << 8 | q[3], (int)(n - hl), q + hl);
}

static void quoted6(const unsigned char *q, long n) {
  char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
  if (n < 40) {
    printf(" quoting %ld bytes", n);
    return;
  }
  inet_ntop(AF_INET6, q + 8, a, sizeof a);
  inet_ntop(AF_INET6, q + 24, b, sizeof b);
  printf(" quoting %ld bytes: traffic class 0x%02x next header %u %s > %s payload length %u", n,
         (q[0] & 15) << 4 | q[1] >> 4, q[6], a, b, q[4] << 8 | q[5]);
  long at = 40;
  if (q[6] == 44 && n >= 48) {
    printf(" fragment: next header %u offset %u more %u", q[40], (q[42] << 8 | q[43]) & 0xfff8, q[43] & 1);
    at = 48;
  }
  printf(" data \"%.*s\"", (int)(n - at), q + at);
}

/* Every ICMP message the sniffer has; "none" when it has none. */
static void sniffed(int s, int family) {
  int count = 0;
  for (;;) {
    unsigned char p[2048], control[256];
    struct sockaddr_storage from;
    struct iovec v = {p, sizeof p};
    struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &v, .msg_iovlen = 1,
                       .msg_control = control, .msg_controllen = sizeof control};
    long n = recvmsg(s, &m, MSG_DONTWAIT);
    if (n < 0) break;
    count++;
    char a[INET6_ADDRSTRLEN];
    addr_str((struct sockaddr *)&from, a, sizeof a);
    if (family == AF_INET) {
      int hl = (p[0] & 15) * 4;
      char d[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, p + 16, d, sizeof d);
      printf("  icmp: %s > %s tos 0x%02x ttl %u df %u length %ld type %u code %u info %u checksum %s", a, d, p[1],
             p[8], (p[6] >> 6) & 1, n, p[hl], p[hl + 1], p[hl + 4] << 24 | p[hl + 5] << 16 | p[hl + 6] << 8 | p[hl + 7],
             csum(p + hl, n - hl) == 0 ? "ok" : "bad");
      quoted4(p + hl + 8, n - hl - 8);
    } else {
      int hops = -1, tclass = -1;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) memcpy(&hops, CMSG_DATA(c), sizeof hops);
        else if (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_TCLASS) memcpy(&tclass, CMSG_DATA(c), sizeof tclass);
      printf("  icmp6: from %s hop limit %d tclass 0x%02x length %ld type %u code %u pointer %u", a, hops, tclass, n,
             p[0], p[1], p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7]);
      quoted6(p + 8, n - 8);
    }
    printf("\n");
  }
  if (!count) printf("  %s: none\n", family == AF_INET ? "icmp" : "icmp6");
}

/* The end of a case: what sniffer `icmp` caught, the counters since `before`; closes `icmp`
 * and the sender `s`. */
static void finish(int icmp, int family, const struct counters *before, int s) {
  sniffed(icmp, family);
  show_counters(before);
  close(s);
  close(icmp);
}

/* The entry recvmsg(MSG_ERRQUEUE) gives, every field, then the next try. */
static void errqueue(int s) {
  char buf[128] = {0};
  struct errqueue_msg q;
  long n = recv_errqueue(s, buf, sizeof buf, MSG_DONTWAIT, &q);
  if (n < 0) return;
  printf("  errqueue: n %ld data \"%.*s\" msg_flags%s%s namelen %u name %s port %d\n", n, (int)n, buf,
         q.m.msg_flags & MSG_ERRQUEUE ? " ERRQUEUE" : "", q.m.msg_flags & MSG_TRUNC ? " TRUNC" : "",
         q.m.msg_namelen, q.addr, port_in(&q.name));
  print_cmsgs(&q.m, 1);
  recv_errqueue(s, buf, sizeof buf, MSG_DONTWAIT, &q);
}

static void recv_now(int s) {
  char b[256];
  long n = recv(s, b, sizeof b, MSG_DONTWAIT);
  printf("  recv: %s\n", res_rc(n));
}

/* ---- the cases ---- */

static const char *lo_of(int family) { return family == AF_INET ? "127.0.0.1" : "::1"; }
static const char *far_of(int family) { return family == AF_INET ? "127.0.0.2" : FAR6; }
static int v(int family) { return family == AF_INET ? 4 : 6; }

/* Unconnected, with RECVERR: the error is pending and queued. */
static void with_recverr(int family) {
  printf("raw%d %d from %s to %s, IP%s_RECVERR:\n", v(family), PROTO, far_of(family), lo_of(family),
         family == AF_INET ? "" : "V6");
  int icmp = sniffer(family);
  struct counters c = counters(family);
  int s = sender(family, far_of(family), 1);
  send_text(s, family, lo_of(family));
  revents("poll", s, 1000);
  recv_now(s);
  printf("  SO_ERROR: %s\n", errname(so_error(s)));
  errqueue(s);
  sleep_ms(20);
  finish(icmp, family, &c, s);
}

/* Connected, without RECVERR: the error is hard, so the next send fails with it. */
static void connected(int family) {
  printf("raw%d %d from %s connected to %s, no RECVERR:\n", v(family), PROTO, far_of(family), lo_of(family));
  int icmp = sniffer(family);
  struct counters c = counters(family);
  int s = sender(family, far_of(family), 0);
  struct sockaddr_storage ss;
  socklen_t len = dest(family, lo_of(family), &ss);
  if (connect(s, (void *)&ss, len) < 0) printf("  connect: %s\n", err());
  send_text(s, family, NULL);
  revents("poll", s, 1000);
  send_text(s, family, NULL);
  printf("  SO_ERROR: %s\n", errname(so_error(s)));
  errqueue(s);
  sleep_ms(20);
  finish(icmp, family, &c, s);
}

/* Unconnected, without RECVERR: the socket hears nothing, the answer still goes. The sender's
 * TOS or traffic class is 0xb9: what of it the answer keeps. */
static void unconnected(int family) {
  printf("raw%d %d from %s to %s, unconnected, no RECVERR, %s 0xb9:\n", v(family), PROTO, far_of(family),
         lo_of(family), family == AF_INET ? "IP_TOS" : "IPV6_TCLASS");
  int icmp = sniffer(family);
  struct counters c = counters(family);
  int s = sender(family, far_of(family), 0), tos = 0xb9;
  if (family == AF_INET) setsockopt(s, SOL_IP, IP_TOS, &tos, sizeof tos);
  else setsockopt(s, SOL_IPV6, IPV6_TCLASS, &tos, sizeof tos);
  send_text(s, family, lo_of(family));
  revents("poll", s, 200);
  printf("  SO_ERROR: %s\n", errname(so_error(s)));
  finish(icmp, family, &c, s);
}

/* A raw socket of the protocol bound to the destination takes the datagram: no answer. */
static void taken(int family) {
  printf("raw%d %d from %s to %s, a raw socket of %d on %s:\n", v(family), PROTO, far_of(family), lo_of(family), PROTO,
         lo_of(family));
  int icmp = sniffer(family);
  struct counters c = counters(family);
  int l = sender(family, lo_of(family), 0);
  int s = sender(family, far_of(family), 1);
  send_text(s, family, lo_of(family));
  revents("poll", s, 200);
  printf("  SO_ERROR: %s\n", errname(so_error(s)));
  char b[256];
  long n = recv(l, b, sizeof b, MSG_DONTWAIT);
  printf("  the other socket received: %s\n", res_rc(n));
  close(l);
  finish(icmp, family, &c, s);
}

/* To lo's broadcast address: counted as unknown, not answered. */
static void broadcast(void) {
  printf("raw4 %d from 127.0.0.2 to 127.255.255.255, SO_BROADCAST:\n", PROTO);
  int icmp = sniffer(AF_INET);
  struct counters c = counters(AF_INET);
  int s = sender(AF_INET, "127.0.0.2", 1), one = 1;
  setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  send_text(s, AF_INET, "127.255.255.255");
  revents("poll", s, 200);
  printf("  SO_ERROR: %s\n", errname(so_error(s)));
  finish(icmp, AF_INET, &c, s);
}

/* In `p`, an IPv6 header from FAR6 to ::1 with next header `nh` and `plen` bytes of payload. */
static void ip6_header(unsigned char *p, int nh, int plen) {
  memset(p, 0, 40);
  p[0] = 0x60;
  p[4] = plen >> 8;
  p[5] = plen & 0xff;
  p[6] = nh;
  p[7] = 64;
  struct sockaddr_in6 far = sin6(FAR6);
  memcpy(p + 8, &far.sin6_addr, 16);
  p[39] = 1;
}

/* In `p`, a Fragment header for PROTO at byte `offset`, more fragments when `more`. */
static void fragment_header(unsigned char *p, int offset, int more) {
  memset(p, 0, 8);
  p[0] = PROTO;
  p[2] = offset >> 8;
  p[3] = (offset & 0xf8) | (more ? 1 : 0);
  p[4] = 0x12, p[5] = 0x34, p[6] = 0x56, p[7] = 0x78;
}

static void send_hdrincl6(int s, const unsigned char *p, size_t n) {
  struct sockaddr_in6 lo = sin6("::1");
  long r = sendto(s, p, n, 0, (void *)&lo, sizeof lo);
  printf("  send: %s\n", res_rc(r));
}

/* With IPV6_HDRINCL (an IPPROTO_RAW socket): an atomic fragment, then a fragmented datagram. */
static void fragments(void) {
  int s = socket(AF_INET6, SOCK_RAW, IPPROTO_RAW);
  unsigned char p[40 + 8 + 32];
  const size_t text = strlen(TEXT);

  printf("raw6 atomic fragment of %d from %s to ::1:\n", PROTO, FAR6);
  int icmp = sniffer(AF_INET6);
  struct counters c = counters(AF_INET6);
  ip6_header(p, 44, 8 + text);
  fragment_header(p + 40, 0, 0);
  memcpy(p + 48, TEXT, text);
  send_hdrincl6(s, p, 48 + text);
  sleep_ms(50);
  sniffed(icmp, AF_INET6);
  show_counters(&c);
  close(icmp);

  printf("raw6 %d from %s to ::1 in two fragments:\n", PROTO, FAR6);
  icmp = sniffer(AF_INET6);
  c = counters(AF_INET6);
  ip6_header(p, 44, 8 + 8);
  fragment_header(p + 40, 0, 1);
  memcpy(p + 48, TEXT, 8);
  send_hdrincl6(s, p, 56);
  ip6_header(p, 44, 8 + text - 8);
  fragment_header(p + 40, 8, 0);
  memcpy(p + 48, TEXT + 8, text - 8);
  send_hdrincl6(s, p, 48 + text - 8);
  sleep_ms(50);
  sniffed(icmp, AF_INET6);
  show_counters(&c);
  close(icmp);
  close(s);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  with_recverr(AF_INET);
  connected(AF_INET);
  unconnected(AF_INET);
  taken(AF_INET);
  broadcast();
  add_far6();
  with_recverr(AF_INET6);
  connected(AF_INET6);
  unconnected(AF_INET6);
  taken(AF_INET6);
  fragments();
  return 0;
}
