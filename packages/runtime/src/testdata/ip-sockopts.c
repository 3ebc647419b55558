/* The IP-, IPv6- and UDP-level socket options of TCP and UDP sockets on loopback: each option's
 * default on a fresh socket, what setsockopt answers for a few ints and what getsockopt reads
 * back after, and the options' effects: IP_MTU / IPV6_MTU of a connected socket (the MTU of
 * lo, which IPv4 caps at 65535), IP_MINTTL on UDP, IP_FREEBIND / IP_TRANSPARENT / IPV6_FREEBIND binding a
 * non-local address, IP_BIND_ADDRESS_NO_PORT, IP_LOCAL_PORT_RANGE, UDP_CORK and UDP_SEGMENT
 * (option and per-send cmsg) as the receiver sees the datagrams. Run in a fresh network
 * namespace (only lo, up) natively and under tsvisor --network none (ip-sockopts.test.ts): the
 * output must be the same. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sock-util.h"

#ifndef UDP_CORK
#define UDP_CORK 1
#endif
#define UDP_ENCAP 100
#define UDP_NO_CHECK6_TX 101
#define UDP_NO_CHECK6_RX 102
#define UDP_SEGMENT 103
#define UDP_GRO 104
#define IPV6_FLOWINFO 11
#define IPV6_FLOWINFO_SEND 33
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IP_PROTOCOL
#define IP_PROTOCOL 52
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

struct opt {
  int name;
  const char *label;
};

static const struct opt IP_OPTS[] = {
    {1, "TOS"},           {2, "TTL"},          {3, "HDRINCL"},      {4, "OPTIONS"},
    {5, "ROUTER_ALERT"},  {6, "RECVOPTS"},     {7, "RETOPTS"},      {8, "PKTINFO"},
    {9, "PKTOPTIONS"},    {10, "MTU_DISCOVER"}, {12, "RECVTTL"},    {13, "RECVTOS"},
    {14, "MTU"},          {15, "FREEBIND"},    {18, "PASSSEC"},     {19, "TRANSPARENT"},
    {20, "RECVORIGDSTADDR"}, {21, "MINTTL"},   {22, "NODEFRAG"},    {23, "CHECKSUM"},
    {24, "BIND_ADDRESS_NO_PORT"}, {25, "RECVFRAGSIZE"}, {26, "RECVERR_RFC4884"},
    {32, "MULTICAST_IF"}, {33, "MULTICAST_TTL"}, {34, "MULTICAST_LOOP"}, {35, "ADD_MEMBERSHIP"},
    {49, "MULTICAST_ALL"}, {50, "UNICAST_IF"}, {51, "LOCAL_PORT_RANGE"}, {52, "PROTOCOL"},
};
static const struct opt IP6_OPTS[] = {
    {1, "ADDRFORM"},       {2, "2292PKTINFO"},   {3, "2292HOPOPTS"},  {4, "2292DSTOPTS"},
    {5, "2292RTHDR"},      {8, "2292HOPLIMIT"},  {11, "FLOWINFO"},    {16, "UNICAST_HOPS"},
    {17, "MULTICAST_IF"},  {18, "MULTICAST_HOPS"}, {19, "MULTICAST_LOOP"}, {22, "ROUTER_ALERT"},
    {23, "MTU_DISCOVER"},  {24, "MTU"},          {26, "V6ONLY"},      {29, "MULTICAST_ALL"},
    {30, "ROUTER_ALERT_ISOLATE"}, {31, "RECVERR_RFC4884"}, {33, "FLOWINFO_SEND"},
    {53, "RECVHOPOPTS"},   {54, "HOPOPTS"},      {55, "RTHDRDSTOPTS"}, {56, "RECVRTHDR"},
    {57, "RTHDR"},         {58, "RECVDSTOPTS"},  {59, "DSTOPTS"},     {60, "RECVPATHMTU"},
    {61, "PATHMTU"},       {62, "DONTFRAG"},     {70, "AUTOFLOWLABEL"}, {72, "ADDR_PREFERENCES"},
    {73, "MINHOPCOUNT"},   {74, "RECVORIGDSTADDR"}, {75, "TRANSPARENT"}, {76, "UNICAST_IF"},
    {77, "RECVFRAGSIZE"},  {78, "FREEBIND"},
};
static const struct opt UDP_OPTS[] = {
    {UDP_CORK, "CORK"},           {UDP_ENCAP, "ENCAP"},     {UDP_NO_CHECK6_TX, "NO_CHECK6_TX"},
    {UDP_NO_CHECK6_RX, "NO_CHECK6_RX"}, {UDP_SEGMENT, "SEGMENT"}, {UDP_GRO, "GRO"},
};
#define N(a) (sizeof(a) / sizeof((a)[0]))
/* "ok" for a call that succeeded, else the name of its errno. */
static const char *ok_or_errno(long r) {
  return r < 0 ? strerrorname_np(errno) : "ok";
}

/* Runs a call and prints "label: ok" or its errno name. */
#define TRY(label, call) printf("%s: %s\n", label, (call) == 0 ? "ok" : strerrorname_np(errno))

/* Values the round trips set: the edges of a bool, a byte and a u16, and -1. */
static const int VALUES[] = {0, 1, 2, 5, 6, 255, 256, 1280, 65535, 65536, -1};

static void show_get(int fd, int level, int name) {
  unsigned char buf[64];
  memset(buf, 0xaa, sizeof buf);
  socklen_t len = sizeof buf;
  if (getsockopt(fd, level, name, buf, &len) < 0) {
    printf(" %s", strerrorname_np(errno));
    return;
  }
  int32_t v = 0;
  if (len >= 4) memcpy(&v, buf, 4);
  else if (len > 0) v = buf[0];
  printf(" len %u = %d", len, v);
}

static int fresh(const char *kind) {
  int fam = strchr(kind, '6') ? AF_INET6 : AF_INET;
  int type = kind[0] == 't' ? SOCK_STREAM : SOCK_DGRAM;
  int fd = socket(fam, type, 0);
  if (fd < 0) {
    perror("socket");
    exit(1);
  }
  return fd;
}

static void scan(const char *kind, const char *lname, int level, const struct opt *opts, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int fd = fresh(kind);
    printf("%s %s_%s default:", kind, lname, opts[i].label);
    show_get(fd, level, opts[i].name);
    printf("\n");
    close(fd);
    if (level == IPPROTO_IPV6 && opts[i].name == IPV6_ADDRFORM) continue; /* turns the socket into IPv4 */
    printf("%s %s_%s set:", kind, lname, opts[i].label);
    for (size_t j = 0; j < N(VALUES); j++) {
      fd = fresh(kind);
      int v = VALUES[j];
      if (setsockopt(fd, level, opts[i].name, &v, sizeof v) < 0) printf(" %d:%s", v, strerrorname_np(errno));
      else {
        printf(" %d:", v);
        show_get(fd, level, opts[i].name);
      }
      close(fd);
    }
    printf("\n");
  }
}

static struct sockaddr_in sin4(const char *a, int port) {
  struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, a, &s.sin_addr);
  return s;
}
static struct sockaddr_in6 sin6(const char *a, int port) {
  struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
  inet_pton(AF_INET6, a, &s.sin6_addr);
  return s;
}

/* A UDP receiver bound on loopback (port chosen by the kernel). */
static int receiver(int fam, int *port) {
  int r = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fam == AF_INET) {
    struct sockaddr_in a = sin4("127.0.0.1", 0);
    bind(r, (struct sockaddr *)&a, sizeof a);
  } else {
    struct sockaddr_in6 a = sin6("::1", 0);
    bind(r, (struct sockaddr *)&a, sizeof a);
  }
  *port = port_of(r);
  return r;
}

static void connect_to(int fd, int fam, int port) {
  int r;
  if (fam == AF_INET) {
    struct sockaddr_in a = sin4("127.0.0.1", port);
    r = connect(fd, (struct sockaddr *)&a, sizeof a);
  } else {
    struct sockaddr_in6 a = sin6("::1", port);
    r = connect(fd, (struct sockaddr *)&a, sizeof a);
  }
  if (r < 0) printf("connect: %s\n", strerrorname_np(errno));
}

/* Prints the lengths of the datagrams waiting on `r` (after a moment for them to arrive). */
static void drain(int r) {
  usleep(50000);
  char buf[70000];
  int n = 0;
  for (;;) {
    ssize_t k = recv(r, buf, sizeof buf, 0);
    if (k < 0) break;
    printf(" %zd", k);
    n++;
  }
  if (n == 0) printf(" none");
  printf("\n");
}

/* The MTU of lo (SIOCGIFMTU). */
static int lo_mtu(void) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int r = ioctl(fd, SIOCGIFMTU, &ifr);
  close(fd);
  return r < 0 ? -1 : ifr.ifr_mtu;
}

/* Whether an MTU option reads lo's MTU, capped at 65535 (IPv4's IP_MAX_MTU) when `capped`. */
static void show_mtu(int fd, int level, int name, int capped) {
  int v = 0;
  socklen_t l = sizeof v;
  if (getsockopt(fd, level, name, &v, &l) < 0) {
    printf(" %s", strerrorname_np(errno));
    return;
  }
  int lo = lo_mtu();
  if (capped && lo > 65535) lo = 65535;
  printf(" %s", v == lo ? (capped ? "lo's, at most 65535" : "lo's") : "other");
}

static void mtu_effects(void) {
  int port;
  int r4 = receiver(AF_INET, &port);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  connect_to(u, AF_INET, port);
  printf("udp4 connected IP_MTU:");
  show_mtu(u, IPPROTO_IP, IP_MTU, 1);
  printf("\n");
  close(u);
  int r6 = receiver(AF_INET6, &port);
  u = socket(AF_INET6, SOCK_DGRAM, 0);
  connect_to(u, AF_INET6, port);
  printf("udp6 connected IPV6_MTU:");
  show_mtu(u, IPPROTO_IPV6, IPV6_MTU, 0);
  printf(", IP_MTU:");
  show_mtu(u, IPPROTO_IP, IP_MTU, 0);
  printf(", IPV6_PATHMTU len:");
  {
    unsigned char b[64];
    socklen_t l = sizeof b;
    if (getsockopt(u, IPPROTO_IPV6, IPV6_PATHMTU, b, &l) < 0) printf(" %s", strerrorname_np(errno));
    else {
      struct ip6_mtuinfo mi;
      memcpy(&mi, b, sizeof mi);
      static const unsigned char zero[28];
      printf(" %u, mtu is lo's: %s, sockaddr zeroed: %s", l, (int)mi.ip6m_mtu == lo_mtu() ? "yes" : "no",
             memcmp(&mi.ip6m_addr, zero, sizeof zero) == 0 ? "yes" : "no");
    }
  }
  printf("\n");
  close(u);
  /* TCP: connected to a listener. */
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = sin4("127.0.0.1", 0);
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 4);
  int t = socket(AF_INET, SOCK_STREAM, 0);
  connect_to(t, AF_INET, port_of(l));
  printf("tcp4 connected IP_MTU:");
  show_mtu(t, IPPROTO_IP, IP_MTU, 1);
  printf("\n");
  close(t);
  close(l);
  /* IP_PMTUDISC_DO with a datagram within lo's MTU is sent; past 65507 bytes it is EMSGSIZE. */
  u = socket(AF_INET, SOCK_DGRAM, 0);
  int v = IP_PMTUDISC_DO;
  setsockopt(u, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v);
  static char big[70000];
  struct sockaddr_in to = sin4("127.0.0.1", port_of(r4));
  printf("udp4 PMTUDISC_DO send 65507: %s, 65508: %s\n",
         sendto(u, big, 65507, 0, (struct sockaddr *)&to, sizeof to) == 65507 ? "ok" : strerrorname_np(errno),
         sendto(u, big, 65508, 0, (struct sockaddr *)&to, sizeof to) < 0 ? strerrorname_np(errno) : "sent");
  printf("udp4 receiver got:");
  drain(r4);
  close(u);
  close(r4);
  close(r6);
}

/* IP_MINTTL / IPV6_MINHOPCOUNT on a listener: a SYN that arrives with a lower TTL is dropped,
 * so the connect gets no answer; Linux checks them on TCP only: UDP datagrams pass. */
static void minttl_effects(void) {
  for (int fam = AF_INET; fam; fam = fam == AF_INET ? AF_INET6 : 0) {
    int l = socket(fam, SOCK_STREAM, 0);
    int level = fam == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
    int minopt = fam == AF_INET ? IP_MINTTL : IPV6_MINHOPCOUNT;
    int ttlopt = fam == AF_INET ? IP_TTL : IPV6_UNICAST_HOPS;
    if (fam == AF_INET) {
      struct sockaddr_in a = sin4("127.0.0.1", 0);
      bind(l, (struct sockaddr *)&a, sizeof a);
    } else {
      struct sockaddr_in6 a = sin6("::1", 0);
      bind(l, (struct sockaddr *)&a, sizeof a);
    }
    int v = 65;
    printf("%s min ttl 65 on listener: %d\n", fam == AF_INET ? "tcp4" : "tcp6",
           setsockopt(l, level, minopt, &v, sizeof v));
    listen(l, 4);
    int ttls[] = {64, 65};
    for (int i = 0; i < 2; i++) {
      int c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
      setsockopt(c, level, ttlopt, &ttls[i], sizeof ttls[i]);
      connect_to(c, fam, port_of(l));
      struct pollfd p = {.fd = c, .events = POLLOUT};
      int r = poll(&p, 1, 300);
      int err = 0;
      socklen_t el = sizeof err;
      getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el);
      printf("  client ttl %d: %s\n", ttls[i], r == 0 ? "no answer" : err ? strerrorname_np(err) : "connected");
      if (r > 0 && !err) {
        /* The accepted socket inherits the minimum: the client lowers its TTL, its data is dropped. */
        int a = accept(l, NULL, NULL);
        printf("  accepted inherits it: %s\n", ({
                 int m = -1;
                 socklen_t ml = sizeof m;
                 getsockopt(a, level, minopt, &m, &ml);
                 m == 65 ? "yes" : "no";
               }));
        int low = 64;
        setsockopt(c, level, ttlopt, &low, sizeof low);
        send(c, "x", 1, 0);
        usleep(100000);
        char b[4];
        ssize_t n = recv(a, b, sizeof b, MSG_DONTWAIT);
        printf("  data sent with ttl 64 after: %s\n", n < 0 ? "not received" : "received");
        close(a);
      }
      close(c);
    }
    close(l);
  }
  /* UDP ignores it. */
  int port;
  int r = receiver(AF_INET, &port);
  int v = 65;
  setsockopt(r, IPPROTO_IP, IP_MINTTL, &v, sizeof v);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  connect_to(u, AF_INET, port);
  send(u, "a", 1, 0);
  printf("udp4 minttl 65, sent ttl 64, got:");
  drain(r);
  close(u);
  close(r);
}

/* Options whose values are addresses or interface indexes. */
static void address_values(void) {
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  int v = htonl(INADDR_LOOPBACK);
  printf("udp4 IP_MULTICAST_IF 127.0.0.1: %d,", setsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &v, sizeof v));
  show_get(u, IPPROTO_IP, IP_MULTICAST_IF);
  printf("\n");
  v = htonl(1);
  printf("udp4 IP_UNICAST_IF htonl(1): %d,", setsockopt(u, IPPROTO_IP, IP_UNICAST_IF, &v, sizeof v));
  show_get(u, IPPROTO_IP, IP_UNICAST_IF);
  printf("\n");
  close(u);
  u = socket(AF_INET6, SOCK_DGRAM, 0);
  v = htonl(1);
  printf("udp6 IPV6_UNICAST_IF htonl(1): %d,", setsockopt(u, IPPROTO_IPV6, IPV6_UNICAST_IF, &v, sizeof v));
  show_get(u, IPPROTO_IPV6, IPV6_UNICAST_IF);
  printf("\n");
  close(u);
  /* IP_UNICAST_IF is the output link of UDP sends and connects (not TCP's): through lo, a
   * host lo has no route to is reached (and the datagram lost); IPv6 keeps no route. */
  for (int on = 0; on < 2; on++) {
    int v1 = htonl(1);
    struct sockaddr_in a = sin4("192.0.2.1", 9);
    struct sockaddr_in6 b = sin6("2001:db8::1", 9);
    int u4 = socket(AF_INET, SOCK_DGRAM, 0), t4 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
    if (on) {
      setsockopt(u4, IPPROTO_IP, IP_UNICAST_IF, &v1, sizeof v1);
      setsockopt(t4, IPPROTO_IP, IP_UNICAST_IF, &v1, sizeof v1);
      setsockopt(u6, IPPROTO_IPV6, IPV6_UNICAST_IF, &v1, sizeof v1);
    }
    printf("UNICAST_IF %s:", on ? "lo" : "none");
    printf(" udp4 sendto 192.0.2.1 %s,", ok_or_errno(sendto(u4, "x", 1, 0, (struct sockaddr *)&a, sizeof a)));
    printf(" connect %s,", ok_or_errno(connect(u4, (struct sockaddr *)&a, sizeof a)));
    printf(" tcp4 connect %s,", ok_or_errno(connect(t4, (struct sockaddr *)&a, sizeof a)));
    printf(" udp6 sendto 2001:db8::1 %s\n", ok_or_errno(sendto(u6, "x", 1, 0, (struct sockaddr *)&b, sizeof b)));
    close(u4);
    close(t4);
    close(u6);
  }
}

/* Multicast group membership: ip_mreq / ip_mreqn / ipv6_mreq, on a namespace with only lo. */
static void membership_effects(void) {
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct ip_mreqn m;
  memset(&m, 0, sizeof m);
  inet_pton(AF_INET, "224.0.0.251", &m.imr_multiaddr);
  TRY("udp4 ADD_MEMBERSHIP 224.0.0.251 any link",
      setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(struct ip_mreq)));
  m.imr_address.s_addr = htonl(INADDR_LOOPBACK);
  TRY("udp4 ADD_MEMBERSHIP 224.0.0.251 on 127.0.0.1",
      setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(struct ip_mreq)));
  TRY("udp4 ADD_MEMBERSHIP again", setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(struct ip_mreq)));
  struct ip_mreqn n = m;
  n.imr_address.s_addr = 0;
  n.imr_ifindex = 1;
  TRY("udp4 ADD_MEMBERSHIP again by ifindex 1 (mreqn)", setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &n, sizeof n));
  n.imr_ifindex = 99;
  TRY("udp4 ADD_MEMBERSHIP ifindex 99", setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &n, sizeof n));
  struct ip_mreqn bad = m;
  inet_pton(AF_INET, "10.0.0.1", &bad.imr_multiaddr);
  TRY("udp4 ADD_MEMBERSHIP 10.0.0.1 (not a group)",
      setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &bad, sizeof(struct ip_mreq)));
  TRY("udp4 DROP_MEMBERSHIP 224.0.0.251", setsockopt(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof(struct ip_mreq)));
  TRY("udp4 DROP_MEMBERSHIP again", setsockopt(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof(struct ip_mreq)));
  TRY("udp4 DROP_MEMBERSHIP short", setsockopt(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, 4));
  int joined = 0, err = 0;
  for (int i = 1; i <= 25 && !err; i++) {
    struct ip_mreqn g = m;
    g.imr_multiaddr.s_addr = htonl(0xe0000100 + i);
    if (setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &g, sizeof(struct ip_mreq)) == 0) joined++;
    else err = errno;
  }
  printf("udp4 joined %d groups, then %s\n", joined, err ? strerrorname_np(err) : "no error");
  close(u);
  int t = socket(AF_INET, SOCK_STREAM, 0);
  TRY("tcp4 ADD_MEMBERSHIP", setsockopt(t, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(struct ip_mreq)));
  close(t);
  u = socket(AF_INET6, SOCK_DGRAM, 0);
  struct ipv6_mreq m6;
  memset(&m6, 0, sizeof m6);
  inet_pton(AF_INET6, "ff02::fb", &m6.ipv6mr_multiaddr);
  TRY("udp6 JOIN_GROUP ff02::fb any link", setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof m6));
  m6.ipv6mr_interface = 1;
  TRY("udp6 JOIN_GROUP ff02::fb on lo", setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof m6));
  TRY("udp6 JOIN_GROUP again", setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof m6));
  m6.ipv6mr_interface = 99;
  TRY("udp6 JOIN_GROUP ifindex 99", setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof m6));
  m6.ipv6mr_interface = 1;
  struct ipv6_mreq b6 = m6;
  inet_pton(AF_INET6, "2001:db8::1", &b6.ipv6mr_multiaddr);
  TRY("udp6 JOIN_GROUP 2001:db8::1 (not a group)", setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, &b6, sizeof b6));
  TRY("udp6 JOIN_GROUP short", setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, 16));
  TRY("udp6 LEAVE_GROUP ff02::fb", setsockopt(u, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &m6, sizeof m6));
  TRY("udp6 LEAVE_GROUP again", setsockopt(u, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &m6, sizeof m6));
  close(u);
  /* The source-filter and protocol-independent options with values shorter than their struct
   * (and IP_*_SOURCE* longer), a leave that names no group, and multicast routing. */
  const char *k4[] = {"udp4", "tcp4"};
  for (int k = 0; k < 2; k++) {
    int fd = fresh(k4[k]);
    static unsigned char zeros[300];
    printf("%s short:", k4[k]);
    for (int o = IP_DROP_MEMBERSHIP; o <= MCAST_MSFILTER; o++)
      printf(" %d:%s", o, setsockopt(fd, IPPROTO_IP, o, zeros, 4) == 0 ? "ok" : strerrorname_np(errno));
    printf("\n%s 13 bytes:", k4[k]);
    for (int o = IP_UNBLOCK_SOURCE; o <= IP_DROP_SOURCE_MEMBERSHIP; o++)
      printf(" %d:%s", o, setsockopt(fd, IPPROTO_IP, o, zeros, 13) == 0 ? "ok" : strerrorname_np(errno));
    printf("\n%s MRT:", k4[k]);
    for (int o = 200; o <= 213; o++) {
      socklen_t l = sizeof zeros;
      int g = getsockopt(fd, IPPROTO_IP, o, zeros, &l);
      printf(" %d:%s/%s", o, g == 0 ? "ok" : strerrorname_np(errno),
             setsockopt(fd, IPPROTO_IP, o, zeros, 4) == 0 ? "ok" : strerrorname_np(errno));
      memset(zeros, 0, sizeof zeros);
    }
    printf("\n");
    if (k == 0) {
      struct ip_mreqn z;
      memset(&z, 0, sizeof z);
      TRY("udp4 DROP_MEMBERSHIP of group 0.0.0.0", setsockopt(fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &z, sizeof z));
      z.imr_ifindex = 99;
      inet_pton(AF_INET, "224.0.0.251", &z.imr_multiaddr);
      TRY("udp4 DROP_MEMBERSHIP on ifindex 99", setsockopt(fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &z, sizeof z));
    }
    close(fd);
  }
  t = socket(AF_INET6, SOCK_STREAM, 0);
  TRY("tcp6 JOIN_GROUP", setsockopt(t, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof m6));
  TRY("tcp6 JOIN_GROUP short", setsockopt(t, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, 4));
  close(t);
}

/* IP_OPTIONS with option bytes: what getsockopt reads back. */
static void ip_options_values(void) {
  static const struct {
    const char *label;
    unsigned char b[48];
    int len;
  } cases[] = {
      {"NOP NOP NOP EOL", {1, 1, 1, 0}, 4},
      {"NOP x5", {1, 1, 1, 1, 1}, 5},
      {"EOL then junk", {0, 9, 9, 9, 9, 9, 9, 9}, 8},
      {"unknown 0x55 len 4", {0x55, 4, 1, 2}, 4},
      {"unknown len 1", {0x55, 1, 0, 0}, 4},
      {"unknown len past end", {0x55, 9, 0, 0}, 4},
      {"41 NOPs", {[0 ... 40] = 1}, 41},
  };
  for (size_t i = 0; i < N(cases); i++) {
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    int r = setsockopt(u, IPPROTO_IP, IP_OPTIONS, cases[i].b, cases[i].len);
    printf("IP_OPTIONS %s: %s", cases[i].label, r == 0 ? "ok" : strerrorname_np(errno));
    if (r == 0) {
      unsigned char out[64];
      socklen_t l = sizeof out;
      getsockopt(u, IPPROTO_IP, IP_OPTIONS, out, &l);
      printf(", reads %u:", l);
      for (socklen_t k = 0; k < l; k++) printf(" %d", out[k]);
    }
    printf("\n");
    close(u);
  }
}

/* Values shorter than an int: SOL_IP takes a byte for its int options (do_ip_setsockopt). */
static void short_values(void) {
  static const int names[] = {IP_TOS, IP_TTL, IP_PKTINFO, IP_MTU_DISCOVER, IP_FREEBIND, IP_MINTTL,
                              IP_MULTICAST_TTL, IP_MULTICAST_LOOP, IP_MULTICAST_ALL, IP_UNICAST_IF,
                              IP_LOCAL_PORT_RANGE, IP_RECVERR_RFC4884};
  for (size_t i = 0; i < N(names); i++) {
    printf("udp4 IP option %d short:", names[i]);
    for (int len = 0; len <= 8; len += (len < 4 ? 1 : 4)) {
      int u = socket(AF_INET, SOCK_DGRAM, 0);
      unsigned char b[8] = {3, 1, 0, 0, 0, 0, 0, 0};
      int r = setsockopt(u, IPPROTO_IP, names[i], b, len);
      printf(" len %d:%s", len, r == 0 ? "" : strerrorname_np(errno));
      if (r == 0) show_get(u, IPPROTO_IP, names[i]);
      close(u);
    }
    printf("\n");
  }
  /* getsockopt into less than an int: SOL_IP answers a byte when the value fits one. */
  {
    int u4 = socket(AF_INET, SOCK_DGRAM, 0), u6 = socket(AF_INET6, SOCK_DGRAM, 0);
    unsigned range = 40000u | (40009u << 16);
    setsockopt(u4, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof range);
    int seg = 1000;
    setsockopt(u4, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof seg);
    struct {
      int fd, level, name;
      const char *label;
    } q[] = {{u4, IPPROTO_IP, IP_TTL, "IP_TTL"},
             {u4, IPPROTO_IP, IP_LOCAL_PORT_RANGE, "IP_LOCAL_PORT_RANGE"},
             {u4, IPPROTO_IP, IP_MULTICAST_IF, "IP_MULTICAST_IF"},
             {u4, IPPROTO_IP, IP_MTU_DISCOVER, "IP_MTU_DISCOVER"},
             {u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS"},
             {u4, IPPROTO_UDP, UDP_SEGMENT, "UDP_SEGMENT"}};
    for (size_t i = 0; i < N(q); i++) {
      printf("%s into", q[i].label);
      for (socklen_t want = 0; want <= 3; want++) {
        unsigned char g[4] = {0xaa, 0xaa, 0xaa, 0xaa};
        socklen_t l = want;
        int r = getsockopt(q[i].fd, q[i].level, q[i].name, g, &l);
        if (r < 0) printf(" %u:%s", want, strerrorname_np(errno));
        else printf(" %u: len %u bytes %02x %02x %02x", want, l, g[0], g[1], g[2]);
      }
      printf("\n");
    }
    close(u4);
    close(u6);
  }
  int u = socket(AF_INET6, SOCK_DGRAM, 0);
  unsigned char b[4] = {1, 0, 0, 0};
  printf("udp6 IPV6_RECVPKTINFO len 1: %s\n",
         setsockopt(u, IPPROTO_IPV6, IPV6_RECVPKTINFO, b, 1) == 0 ? "ok" : strerrorname_np(errno));
  printf("udp6 UDP_CORK len 1: %s\n", setsockopt(u, IPPROTO_UDP, UDP_CORK, b, 1) == 0 ? "ok" : strerrorname_np(errno));
  close(u);
}

/* SOL_SOCKET options of TCP and UDP sockets that the scan found missing. */
static void socket_level(void) {
  static const struct opt so[] = {{7, "SNDBUF"},  {8, "RCVBUF"},   {26, "GET_FILTER"}, {48, "BPF_EXTENSIONS"},
                                  {61, "TXTIME"}, {73, "RESERVE_MEM"}, {77, "PEERPIDFD"}, {82, "RCVPRIORITY"},
                                  {83, "PASSRIGHTS"}};
  const char *kinds[] = {"udp4", "tcp4", "udp6", "tcp6"};
  for (int k = 0; k < 4; k++) {
    int fd = fresh(kinds[k]);
    printf("%s SOL_SOCKET:", kinds[k]);
    for (size_t i = 0; i < N(so); i++) {
      printf(" %s", so[i].label);
      show_get(fd, SOL_SOCKET, so[i].name);
      printf(";");
    }
    unsigned int mi[9];
    memset(mi, 0xaa, sizeof mi);
    socklen_t l = sizeof mi;
    if (getsockopt(fd, SOL_SOCKET, 55, mi, &l) < 0) printf(" MEMINFO %s", strerrorname_np(errno));
    else {
      printf(" MEMINFO len %u:", l);
      for (int j = 0; j < 9; j++) printf(" %u", mi[j]);
    }
    printf("\n");
    close(fd);
  }
  /* IPV6_2292PKTOPTIONS: TCP only (the options of the last segment: none). */
  for (int k = 2; k < 4; k++) {
    int fd = fresh(kinds[k]);
    printf("%s IPV6_2292PKTOPTIONS:", kinds[k]);
    show_get(fd, IPPROTO_IPV6, IPV6_2292PKTOPTIONS);
    printf("\n");
    close(fd);
  }
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  for (int v = -1; v <= 2; v++) {
    int r = setsockopt(u, SOL_SOCKET, 82, &v, sizeof v);
    printf("udp4 SO_RCVPRIORITY %d: %s,", v, r == 0 ? "ok" : strerrorname_np(errno));
    show_get(u, SOL_SOCKET, 82);
    printf("\n");
  }
  int one = 1;
  printf("udp4 SO_PASSRIGHTS set: %s\n", ok_or_errno(setsockopt(u, SOL_SOCKET, 83, &one, sizeof one)));
  printf("udp4 IPV6_RECVERR:");
  show_get(u, IPPROTO_IPV6, IPV6_RECVERR);
  printf("\n");
  close(u);
}

/* Without privilege (a child that became nobody): IP_TRANSPARENT and IPV6_TRANSPARENT need
 * CAP_NET_RAW or CAP_NET_ADMIN; IP_FREEBIND and UDP_ENCAP do not. */
static void unprivileged(void) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0) {
      perror("setuid");
      _exit(1);
    }
    int one = 1, zero = 0, two = 2;
    int u4 = socket(AF_INET, SOCK_DGRAM, 0), u6 = socket(AF_INET6, SOCK_DGRAM, 0);
    TRY("nobody udp4 IP_TRANSPARENT 1", setsockopt(u4, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof one));
    TRY("nobody udp4 IP_TRANSPARENT 0", setsockopt(u4, IPPROTO_IP, IP_TRANSPARENT, &zero, sizeof zero));
    TRY("nobody udp4 IP_TRANSPARENT 1, no bytes", setsockopt(u4, IPPROTO_IP, IP_TRANSPARENT, &one, 0));
    TRY("nobody udp6 IPV6_TRANSPARENT 1", setsockopt(u6, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, sizeof one));
    TRY("nobody udp6 IPV6_TRANSPARENT 1, 2 bytes", setsockopt(u6, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, 2));
    TRY("nobody udp4 IP_FREEBIND 1", setsockopt(u4, IPPROTO_IP, IP_FREEBIND, &one, sizeof one));
    TRY("nobody udp4 UDP_ENCAP 2", setsockopt(u4, IPPROTO_UDP, UDP_ENCAP, &two, sizeof two));
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("unprivileged child: %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "done" : "failed");
}

/* IP_RECVORIGDSTADDR / IPV6_RECVORIGDSTADDR: recvmsg reports the datagram's destination
 * address and port, in Linux's order among the other IP-level messages. */
static void print_cmsgs(int r, const char *label) {
  char buf[64], c[512];
  struct sockaddr_storage from;
  struct iovec iov = {buf, sizeof buf};
  struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                     .msg_control = c, .msg_controllen = sizeof c};
  usleep(30000);
  ssize_t n = recvmsg(r, &m, MSG_DONTWAIT);
  printf("%s: %s", label, n < 0 ? strerrorname_np(errno) : "got");
  if (n >= 0)
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
      printf(" [%d/%d len %zu", h->cmsg_level, h->cmsg_type, (size_t)h->cmsg_len);
      if ((h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_ORIGDSTADDR) ||
          (h->cmsg_level == IPPROTO_IPV6 && h->cmsg_type == IPV6_ORIGDSTADDR)) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof ss);
        memcpy(&ss, CMSG_DATA(h), h->cmsg_len - CMSG_LEN(0));
        char a[64] = "";
        int port = 0;
        if (ss.ss_family == AF_INET) {
          inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof a);
          port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else {
          inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof a);
          port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
        printf(" family %d %s port is the receiver's: %s", ss.ss_family, a, port == port_of(r) ? "yes" : "no");
      }
      printf("]");
    }
  printf("\n");
}

static void origdst_effects(void) {
  int one = 1;
  int port;
  int r = receiver(AF_INET, &port);
  setsockopt(r, IPPROTO_IP, IP_RECVORIGDSTADDR, &one, sizeof one);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  connect_to(u, AF_INET, port);
  send(u, "a", 1, 0);
  print_cmsgs(r, "udp4 ORIGDSTADDR");
  setsockopt(r, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
  setsockopt(r, IPPROTO_IP, IP_RECVTOS, &one, sizeof one);
  setsockopt(r, IPPROTO_IP, IP_RECVTTL, &one, sizeof one);
  send(u, "a", 1, 0);
  print_cmsgs(r, "udp4 ORIGDSTADDR with PKTINFO, TTL, TOS");
  close(u);
  close(r);
  r = receiver(AF_INET6, &port);
  setsockopt(r, IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, &one, sizeof one);
  setsockopt(r, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
  setsockopt(r, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof one);
  u = socket(AF_INET6, SOCK_DGRAM, 0);
  connect_to(u, AF_INET6, port);
  send(u, "a", 1, 0);
  print_cmsgs(r, "udp6 ORIGDSTADDR with PKTINFO, HOPLIMIT, TCLASS");
  close(u);
  close(r);
  /* An IPv4 datagram on a dual-stack socket. */
  r = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 any = sin6("::", 0);
  bind(r, (struct sockaddr *)&any, sizeof any);
  setsockopt(r, IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, &one, sizeof one);
  u = socket(AF_INET, SOCK_DGRAM, 0);
  connect_to(u, AF_INET, port_of(r));
  send(u, "a", 1, 0);
  print_cmsgs(r, "udp6 dual-stack, IPv4 datagram, IPV6_RECVORIGDSTADDR");
  setsockopt(r, IPPROTO_IP, IP_RECVORIGDSTADDR, &one, sizeof one);
  send(u, "a", 1, 0);
  print_cmsgs(r, "udp6 dual-stack, IPv4 datagram, both ORIGDSTADDR");
  close(u);
  close(r);
}

/* IPv4 multicast on lo: sent out of lo with IP_MULTICAST_IF, it comes back to the sockets on
 * its port that joined the group, or keep IP_MULTICAST_ALL, once one joined it on lo; with the
 * IP_MULTICAST_TTL as its TTL. Without IP_MULTICAST_IF a group has no route. */
static const char *rv(int fd) {
  char b[10];
  return recv(fd, b, sizeof b, MSG_DONTWAIT) < 0 ? strerrorname_np(errno) : "got";
}

static void multicast_delivery(void) {
  int one = 1, zero = 0;
  int A = socket(AF_INET, SOCK_DGRAM, 0), B = socket(AF_INET, SOCK_DGRAM, 0), C = socket(AF_INET, SOCK_DGRAM, 0);
  int socks[] = {A, B, C};
  int port = 0;
  for (int i = 0; i < 3; i++) {
    setsockopt(socks[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = sin4("0.0.0.0", port);
    bind(socks[i], (struct sockaddr *)&a, sizeof a);
    port = port_of(socks[i]);
  }
  setsockopt(C, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in g = sin4("224.0.0.251", port);
  printf("mcast4 without IP_MULTICAST_IF: %s,",
         sendto(u, "x", 1, 0, (struct sockaddr *)&g, sizeof g) < 0 ? strerrorname_np(errno) : "ok");
  printf(" again: %s\n", sendto(u, "x", 1, 0, (struct sockaddr *)&g, sizeof g) < 0 ? strerrorname_np(errno) : "ok");
  struct in_addr lo = {htonl(INADDR_LOOPBACK)};
  setsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo);
  ssize_t n = sendto(u, "x", 1, 0, (struct sockaddr *)&g, sizeof g);
  usleep(30000);
  printf("mcast4 via lo, nobody joined: send %s, A %s, B %s, C %s\n", ok_or_errno(n), rv(A), rv(B), rv(C));
  struct ip_mreqn m;
  memset(&m, 0, sizeof m);
  m.imr_multiaddr = g.sin_addr;
  m.imr_address = lo;
  setsockopt(A, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(struct ip_mreq));
  n = sendto(u, "x", 1, 0, (struct sockaddr *)&g, sizeof g);
  usleep(30000);
  printf("mcast4 via lo, A joined: send %s, A %s, B (MULTICAST_ALL) %s, C (not) %s\n", ok_or_errno(n), rv(A), rv(B), rv(C));
  setsockopt(A, IPPROTO_IP, IP_RECVTTL, &one, sizeof one);
  int ttl = 7;
  setsockopt(u, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
  sendto(u, "x", 1, 0, (struct sockaddr *)&g, sizeof g);
  usleep(30000);
  {
    char b[10], c[64];
    struct iovec iov = {b, sizeof b};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof c};
    int seen = -1;
    if (recvmsg(A, &mh, MSG_DONTWAIT) >= 0 && CMSG_FIRSTHDR(&mh))
      memcpy(&seen, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof seen);
    printf("mcast4 IP_MULTICAST_TTL 7: received with TTL %d\n", seen);
    rv(B);
  }
  setsockopt(A, IPPROTO_IP, IP_DROP_MEMBERSHIP, &m, sizeof(struct ip_mreq));
  n = sendto(u, "x", 1, 0, (struct sockaddr *)&g, sizeof g);
  usleep(30000);
  printf("mcast4 after A left: A %s, B %s\n", rv(A), rv(B));
  close(A);
  close(B);
  close(C);
  close(u);
  u = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 g6 = sin6("ff02::fb", 5353);
  printf("mcast6 without IPV6_MULTICAST_IF: %s\n",
         sendto(u, "x", 1, 0, (struct sockaddr *)&g6, sizeof g6) < 0 ? strerrorname_np(errno) : "ok");
  close(u);
}

static void bind_effects(void) {
  const char *kinds[] = {"udp4", "tcp4"};
  for (int k = 0; k < 2; k++) {
    int opts[] = {0, IP_FREEBIND, IP_TRANSPARENT};
    const char *names[] = {"none", "IP_FREEBIND", "IP_TRANSPARENT"};
    for (int i = 0; i < 3; i++) {
      int fd = fresh(kinds[k]);
      int one = 1;
      if (opts[i]) setsockopt(fd, IPPROTO_IP, opts[i], &one, sizeof one);
      struct sockaddr_in a = sin4("192.0.2.1", 4000 + i);
      int r = bind(fd, (struct sockaddr *)&a, sizeof a);
      printf("%s bind 192.0.2.1 with %s: %s\n", kinds[k], names[i], r == 0 ? "ok" : strerrorname_np(errno));
      if (r == 0) printf("  port %d\n", port_of(fd));
      close(fd);
    }
  }
  const char *kinds6[] = {"udp6", "tcp6"};
  for (int k = 0; k < 2; k++) {
    int opts[] = {0, IPV6_FREEBIND, IPV6_TRANSPARENT, IP_FREEBIND};
    int levels[] = {0, IPPROTO_IPV6, IPPROTO_IPV6, IPPROTO_IP};
    const char *names[] = {"none", "IPV6_FREEBIND", "IPV6_TRANSPARENT", "IP_FREEBIND"};
    for (int i = 0; i < 4; i++) {
      int fd = fresh(kinds6[k]);
      int one = 1;
      if (opts[i]) setsockopt(fd, levels[i], opts[i], &one, sizeof one);
      struct sockaddr_in6 a = sin6("2001:db8::1", 4000 + i);
      int r = bind(fd, (struct sockaddr *)&a, sizeof a);
      printf("%s bind 2001:db8::1 with %s: %s\n", kinds6[k], names[i], r == 0 ? "ok" : strerrorname_np(errno));
      close(fd);
    }
  }
}

static void port_effects(void) {
  /* IP_BIND_ADDRESS_NO_PORT: bind(port 0) leaves the port to connect. */
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = sin4("127.0.0.1", 0);
  bind(l, (struct sockaddr *)&a, sizeof a);
  listen(l, 8);
  for (int on = 0; on < 2; on++) {
    int t = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(t, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    struct sockaddr_in b = sin4("127.0.0.1", 0);
    int r = bind(t, (struct sockaddr *)&b, sizeof b);
    printf("tcp4 BIND_ADDRESS_NO_PORT %d: bind %d, port after bind %s", on, r, port_of(t) ? "set" : "0");
    connect_to(t, AF_INET, port_of(l));
    printf(", after connect %s\n", port_of(t) ? "set" : "0");
    close(t);
  }
  /* IP_LOCAL_PORT_RANGE: the ephemeral port picked follows it. */
  unsigned range = 40000u | (40009u << 16);
  const char *kinds[] = {"udp4", "tcp4", "udp6", "tcp6"};
  for (int k = 0; k < 4; k++) {
    int fam = strchr(kinds[k], '6') ? AF_INET6 : AF_INET;
    int fd = fresh(kinds[k]);
    int r = setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof range);
    if (kinds[k][0] == 't') {
      int ll = socket(fam, SOCK_STREAM, 0);
      if (fam == AF_INET) {
        struct sockaddr_in x = sin4("127.0.0.1", 0);
        bind(ll, (struct sockaddr *)&x, sizeof x);
      } else {
        struct sockaddr_in6 x = sin6("::1", 0);
        bind(ll, (struct sockaddr *)&x, sizeof x);
      }
      listen(ll, 4);
      connect_to(fd, fam, port_of(ll));
      close(ll);
    } else
      connect_to(fd, fam, 9);
    int p = port_of(fd);
    printf("%s LOCAL_PORT_RANGE 40000-40009: set %d, port %s\n", kinds[k], r,
           p >= 40000 && p <= 40009 ? "in range" : "outside");
    close(fd);
    fd = fresh(kinds[k]);
    setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof range);
    if (fam == AF_INET) {
      struct sockaddr_in x = sin4("127.0.0.1", 0);
      bind(fd, (struct sockaddr *)&x, sizeof x);
    } else {
      struct sockaddr_in6 x = sin6("::1", 0);
      bind(fd, (struct sockaddr *)&x, sizeof x);
    }
    p = port_of(fd);
    printf("%s LOCAL_PORT_RANGE bind port 0: %s", kinds[k], p >= 40000 && p <= 40009 ? "in range" : "outside");
    printf(", IP_PROTOCOL is the port: %s\n", ({
             int pv = -1;
             socklen_t pl = sizeof pv;
             getsockopt(fd, IPPROTO_IP, IP_PROTOCOL, &pv, &pl);
             pv == p ? "yes" : "no";
           }));
    close(fd);
  }
  unsigned bad[] = {40009u | (40000u << 16), 40000u, 40000u << 16, 1u | (2u << 16)};
  for (int i = 0; i < 4; i++) {
    int fd = fresh("udp4");
    int r = setsockopt(fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &bad[i], sizeof bad[i]);
    printf("LOCAL_PORT_RANGE %u-%u: %s", bad[i] & 0xffff, bad[i] >> 16, r == 0 ? "ok" : strerrorname_np(errno));
    if (r == 0) {
      connect_to(fd, AF_INET, 9);
      int p = port_of(fd);
      printf(", port in 32768-60999: %s", p >= 32768 && p <= 60999 ? "yes" : "no");
    }
    printf("\n");
    close(fd);
  }
  close(l);
}

static void udp_effects(int fam, const char *kind) {
  int port;
  int r = receiver(fam, &port);
  int u = socket(fam, SOCK_DGRAM, 0);
  connect_to(u, fam, port);
  char b[1000];
  memset(b, 'x', sizeof b);
  /* UDP_CORK: what is sent while corked leaves as one datagram when uncorked. */
  int one = 1, zero = 0;
  setsockopt(u, IPPROTO_UDP, UDP_CORK, &one, sizeof one);
  send(u, b, 10, 0);
  send(u, b, 20, 0);
  send(u, b, 30, 0);
  printf("%s UDP_CORK: while corked got:", kind);
  drain(r);
  setsockopt(u, IPPROTO_UDP, UDP_CORK, &zero, sizeof zero);
  printf("%s UDP_CORK: uncorked got:", kind);
  drain(r);
  /* MSG_MORE corks a single datagram too. */
  send(u, b, 5, MSG_MORE);
  send(u, b, 6, 0);
  printf("%s MSG_MORE 5 then 6 got:", kind);
  drain(r);
  /* UDP_SEGMENT: one send becomes datagrams of that size. */
  int seg = 100;
  printf("%s UDP_SEGMENT 100 set: %d\n", kind, setsockopt(u, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof seg));
  printf("%s send 250: %zd, got:", kind, send(u, b, 250, 0));
  drain(r);
  printf("%s send 100: %zd, got:", kind, send(u, b, 100, 0));
  drain(r);
  printf("%s send 60: %zd, got:", kind, send(u, b, 60, 0));
  drain(r);
  static char big[70000];
  /* At most UDP_MAX_SEGMENTS (128) segments. */
  ssize_t n = send(u, big, 128 * 100 + 1, 0);
  printf("%s send 12801: %s", kind, n < 0 ? strerrorname_np(errno) : "sent");
  n = send(u, big, 300 + 1, MSG_MORE);
  printf(", 301 with MSG_MORE: %s", n < 0 ? strerrorname_np(errno) : "sent");
  n = send(u, big, 1000, 0);
  printf(", then 1000: %s, got:", n < 0 ? strerrorname_np(errno) : "sent");
  drain(r);
  seg = 0;
  setsockopt(u, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof seg);
  /* Per-send UDP_SEGMENT cmsg. */
  {
    char cbuf[CMSG_SPACE(sizeof(uint16_t))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {.iov_base = b, .iov_len = 300};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t gso = 128;
    memcpy(CMSG_DATA(c), &gso, sizeof gso);
    n = sendmsg(u, &m, 0);
    printf("%s sendmsg 300 with UDP_SEGMENT cmsg 128: %zd, got:", kind, n);
    drain(r);
    gso = 0;
    memcpy(CMSG_DATA(c), &gso, sizeof gso);
    n = sendmsg(u, &m, 0);
    printf("%s sendmsg 300 with UDP_SEGMENT cmsg 0: %zd, got:", kind, n);
    drain(r);
  }
  /* Segment sizes that do not fit the path. */
  seg = 65535;
  printf("%s UDP_SEGMENT 65535 set: %d", kind, setsockopt(u, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof seg));
  n = send(u, big, 65535 - 48, 0);
  printf(", send %d: %s\n", 65535 - 48, n < 0 ? strerrorname_np(errno) : "sent");
  drain(r);
  /* UDP_GRO on the receiver: lo keeps a UDP_SEGMENT send whole, so it is read as one datagram
   * with the UDP_GRO message (the segment size); separate datagrams stay separate. */
  {
    int on = 1;
    setsockopt(r, IPPROTO_UDP, UDP_GRO, &on, sizeof on);
    seg = 100;
    setsockopt(u, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof seg);
    send(u, b, 250, 0);
    send(u, b, 50, 0);
    seg = 0;
    setsockopt(u, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof seg);
    send(u, b, 100, 0);
    send(u, b, 100, 0);
    usleep(50000);
    printf("%s UDP_GRO receiver got:", kind);
    for (;;) {
      char buf[2000], c[256];
      struct iovec iov = {buf, sizeof buf};
      struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof c};
      ssize_t k = recvmsg(r, &m, 0);
      if (k < 0) break;
      printf(" %zd", k);
      for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
        int v;
        memcpy(&v, CMSG_DATA(h), sizeof v);
        printf(" [%d/%d len %zu = %d]", h->cmsg_level, h->cmsg_type, (size_t)h->cmsg_len, v);
      }
    }
    printf("\n");
    on = 0;
    setsockopt(r, IPPROTO_UDP, UDP_GRO, &on, sizeof on);
  }
  /* UDP_NO_CHECK6_TX: IPv6 datagrams leave with checksum 0, which only a receiver with
   * UDP_NO_CHECK6_RX takes (IPv4 ones keep theirs); and GSO needs the checksum. */
  int on = 1;
  seg = 0;
  setsockopt(u, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof seg);
  setsockopt(u, IPPROTO_UDP, UDP_NO_CHECK6_TX, &on, sizeof on);
  printf("%s NO_CHECK6_TX send 7: %zd, receiver without NO_CHECK6_RX got:", kind, send(u, b, 7, 0));
  drain(r);
  setsockopt(r, IPPROTO_UDP, UDP_NO_CHECK6_RX, &on, sizeof on);
  printf("%s NO_CHECK6_TX send 8: %zd, receiver with NO_CHECK6_RX got:", kind, send(u, b, 8, 0));
  drain(r);
  seg = 100;
  setsockopt(u, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof seg);
  n = send(u, b, 250, 0);
  printf("%s NO_CHECK6_TX with UDP_SEGMENT send 250: %s, got:", kind, n < 0 ? strerrorname_np(errno) : "sent");
  drain(r);
  close(u);
  close(r);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *kinds[] = {"udp4", "tcp4", "udp6", "tcp6"};
  for (int k = 0; k < 4; k++) {
    scan(kinds[k], "IP", IPPROTO_IP, IP_OPTS, N(IP_OPTS));
    if (strchr(kinds[k], '6')) scan(kinds[k], "IPV6", IPPROTO_IPV6, IP6_OPTS, N(IP6_OPTS));
    if (kinds[k][0] == 'u') scan(kinds[k], "UDP", IPPROTO_UDP, UDP_OPTS, N(UDP_OPTS));
  }
  mtu_effects();
  minttl_effects();
  address_values();
  membership_effects();
  ip_options_values();
  short_values();
  socket_level();
  unprivileged();
  origdst_effects();
  multicast_delivery();
  bind_effects();
  port_effects();
  udp_effects(AF_INET, "udp4");
  udp_effects(AF_INET6, "udp6");
  return 0;
}
