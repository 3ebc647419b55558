/* AF_PACKET sockets without a ring, natively in a fresh network namespace (lo up) and under
 * tsvisor --network none (packet-socket.test.ts): the outputs must match. Covered: EPERM without
 * CAP_NET_RAW, the socket types, bind/getsockname with sockaddr_ll and their errnos, a UDP
 * datagram and a ping on lo seen twice (outgoing, then HOST) by SOCK_RAW (with lo's zero-MAC
 * header) and SOCK_DGRAM sockets, MSG_TRUNC/MSG_PEEK/MSG_DONTWAIT, FIONREAD, SIOCGSTAMP,
 * PACKET_AUXDATA, PACKET_IGNORE_OUTGOING, sendto with sockaddr_ll (a frame of an experimental
 * ethertype from one packet socket to another, SOCK_DGRAM building the header), SO_RCVBUF drops
 * counted by PACKET_STATISTICS, memberships, PACKET_VERSION/HDRLEN/RESERVE, a classic BPF
 * filter, and poll. Checksums, IP ids and timestamps are never printed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sock-util.h"

#define ETH_P_EXP 0x88b5

static struct sockaddr_in v4(const char *ip, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

static void print_ll(const char *what, const struct sockaddr_ll *a, socklen_t len) {
  printf("%s: len %u family %u protocol 0x%04x ifindex %d hatype %u pkttype %u halen %u addr", what,
         (unsigned)len, a->sll_family, ntohs(a->sll_protocol), a->sll_ifindex, a->sll_hatype,
         a->sll_pkttype, a->sll_halen);
  for (int i = 0; i < a->sll_halen && i < 8; i++) printf("%s%02x", i ? ":" : " ", a->sll_addr[i]);
  printf("\n");
}

/** Waits up to `ms` for a frame on `fd`; 1 when one is there. */
static int readable(int fd, int ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, ms) > 0 && (p.revents & POLLIN);
}

/** Drops every frame queued on `fd`. */
static void drain(int fd) {
  char buf[2048];
  while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0) {
  }
}

/** Receives one frame with its sockaddr_ll and prints what must match. `link`: link header length. */
static long show_frame(const char *what, int fd, int link) {
  unsigned char buf[2048];
  struct sockaddr_ll from;
  socklen_t fl = sizeof from;
  memset(&from, 0xaa, sizeof from);
  if (!readable(fd, 2000)) {
    printf("%s: nothing\n", what);
    return -1;
  }
  long n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
  if (n < 0) {
    printf("%s: %s\n", what, res_rc(n));
    return n;
  }
  printf("%s: n %ld", what, n);
  if (link) {
    printf(" link");
    for (int i = 0; i < link; i++) printf(" %02x", buf[i]);
  }
  const unsigned char *ip = buf + link;
  if (n >= link + 20 && (ip[0] >> 4) == 4) {
    int hl = (ip[0] & 15) * 4;
    printf(" ip len %u ttl %u proto %u %u.%u.%u.%u > %u.%u.%u.%u", ip[2] << 8 | ip[3], ip[8], ip[9], ip[12],
           ip[13], ip[14], ip[15], ip[16], ip[17], ip[18], ip[19]);
    const unsigned char *t = ip + hl;
    if (ip[9] == IPPROTO_UDP)
      printf(" udp > %u len %u '%.*s'", t[2] << 8 | t[3], t[4] << 8 | t[5],
             (int)(n - link - hl - 8), (const char *)t + 8);
    if (ip[9] == IPPROTO_ICMP) printf(" icmp type %u code %u id %u seq %u", t[0], t[1], t[4] << 8 | t[5], t[6] << 8 | t[7]);
  } else if (n >= link) {
    printf(" payload '%.*s'", (int)(n - link), (const char *)buf + link);
  }
  printf("\n");
  print_ll(what, &from, fl);
  return n;
}

static void no_cap(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    if (setuid(65534) != 0) _exit(2);
    printf("unprivileged SOCK_RAW: %s\n", res_rc(socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))));
    printf("unprivileged SOCK_DGRAM: %s\n", res_rc(socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL))));
    printf("unprivileged SOCK_STREAM: %s\n", res_rc(socket(AF_PACKET, SOCK_STREAM, 0)));
    fflush(stdout);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void creation(void) {
  printf("SOCK_STREAM: %s\n", res_rc(socket(AF_PACKET, SOCK_STREAM, 0)));
  printf("SOCK_SEQPACKET: %s\n", res_rc(socket(AF_PACKET, SOCK_SEQPACKET, 0)));
  int s = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_IP));
  printf("SOCK_DGRAM|NONBLOCK|CLOEXEC: %s\n", s >= 0 ? "ok" : res_rc(s));
  int v = 0;
  socklen_t vl = sizeof v;
  getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &vl);
  printf("SO_TYPE %d", v);
  getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &vl);
  printf(" SO_DOMAIN %d", v);
  getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &vl);
  printf(" SO_PROTOCOL 0x%x\n", v);
  close(s);
  s = socket(AF_PACKET, SOCK_RAW, 0);
  struct sockaddr_ll a;
  socklen_t al = sizeof a;
  memset(&a, 0xaa, sizeof a);
  printf("getsockname protocol 0: %s\n", res_rc(getsockname(s, (struct sockaddr *)&a, &al)));
  print_ll("unbound", &a, al);
  close(s);
}

static void binding(void) {
  int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = 1};
  printf("bind len 10: %s\n", res_rc(bind(s, (struct sockaddr *)&a, 10)));
  printf("bind len 19: %s\n", res_rc(bind(s, (struct sockaddr *)&a, 19)));
  a.sll_family = AF_INET;
  printf("bind AF_INET: %s\n", res_rc(bind(s, (struct sockaddr *)&a, sizeof a)));
  a.sll_family = AF_PACKET;
  a.sll_ifindex = 99;
  printf("bind ifindex 99: %s\n", res_rc(bind(s, (struct sockaddr *)&a, sizeof a)));
  a.sll_ifindex = -1;
  printf("bind ifindex -1: %s\n", res_rc(bind(s, (struct sockaddr *)&a, sizeof a)));
  a.sll_ifindex = 0;
  printf("bind ifindex 0: %s\n", res_rc(bind(s, (struct sockaddr *)&a, sizeof a)));
  struct sockaddr_ll g;
  socklen_t gl = sizeof g;
  getsockname(s, (struct sockaddr *)&g, &gl);
  print_ll("bound any", &g, gl);
  a.sll_ifindex = 1;
  a.sll_protocol = 0;
  printf("bind lo protocol 0: %s\n", res_rc(bind(s, (struct sockaddr *)&a, sizeof a)));
  gl = sizeof g;
  getsockname(s, (struct sockaddr *)&g, &gl);
  print_ll("bound lo keeps protocol", &g, gl);
  gl = 4;
  memset(&g, 0xaa, sizeof g);
  printf("getsockname len 4: %s", res_rc(getsockname(s, (struct sockaddr *)&g, &gl)));
  printf(" -> len %u family %u\n", (unsigned)gl, g.sll_family);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  printf("SIOCGIFINDEX lo: %s", res_rc(ioctl(s, SIOCGIFINDEX, &ifr)));
  printf(" -> %d\n", ifr.ifr_ifindex);
  printf("connect: %s\n", res_rc(connect(s, (struct sockaddr *)&a, sizeof a)));
  printf("listen: %s\n", res_rc(listen(s, 1)));
  printf("accept: %s\n", res_rc(accept(s, NULL, NULL)));
  printf("shutdown: %s\n", res_rc(shutdown(s, SHUT_RDWR)));
  gl = sizeof g;
  printf("getpeername: %s\n", res_rc(getpeername(s, (struct sockaddr *)&g, &gl)));
  close(s);
}

static int bound(int type, int proto, int ifindex) {
  int s = socket(AF_PACKET, type, htons(proto));
  struct sockaddr_ll a = {.sll_family = AF_PACKET, .sll_protocol = htons(proto), .sll_ifindex = ifindex};
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) printf("bind: %s\n", res_rc(-1));
  return s;
}

static void send_udp(int port, const char *msg) {
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = v4("127.0.0.1", port);
  sendto(u, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof to);
  close(u);
}

static void capture(void) {
  int raw = bound(SOCK_RAW, ETH_P_ALL, 1);
  int dg = bound(SOCK_DGRAM, ETH_P_IP, 0);
  int ip6 = bound(SOCK_DGRAM, ETH_P_IPV6, 1);
  int r = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in at = v4("127.0.0.1", 5555);
  bind(r, (struct sockaddr *)&at, sizeof at);
  struct pollfd p = {.fd = raw, .events = POLLIN | POLLOUT};
  poll(&p, 1, 0);
  printf("poll idle: 0x%x\n", p.revents);
  struct timeval tv = {0, 0};
  printf("SIOCGSTAMP before a frame: %s\n", res_rc(ioctl(raw, SIOCGSTAMP, &tv)));
  int q = -1;
  printf("FIONREAD idle: %s", res_rc(ioctl(raw, FIONREAD, &q)));
  printf(" -> %d\n", q);
  send_udp(5555, "hello packet");
  readable(raw, 2000);
  q = -1;
  printf("FIONREAD: %s", res_rc(ioctl(raw, FIONREAD, &q)));
  printf(" -> %d\n", q);
  poll(&p, 1, 0);
  printf("poll ready: 0x%x\n", p.revents);
  show_frame("udp raw 1", raw, 14);
  printf("SIOCGSTAMP: %s", res_rc(ioctl(raw, SIOCGSTAMP, &tv)));
  printf(" near now %d\n", labs((long)tv.tv_sec - (long)time(NULL)) <= 5);
  show_frame("udp raw 2", raw, 14);
  show_frame("udp dgram 1", dg, 0);
  show_frame("udp dgram 2", dg, 0);
  printf("ipv6 socket: %s\n", readable(ip6, 0) ? "frame" : "nothing");
  printf("dontwait empty: %s\n", res_rc(recv(raw, &q, sizeof q, MSG_DONTWAIT)));

  /* A ping: a raw ICMP socket sends an echo request, the stack answers. */
  int icmp = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  unsigned char echo[16] = {8, 0, 0, 0, 0x12, 0x34, 0, 7, 'p', 'i', 'n', 'g', 0, 0, 0, 0};
  uint32_t sum = 0;
  for (int i = 0; i < 16; i += 2) sum += echo[i] << 8 | echo[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  echo[2] = (uint8_t)(~sum >> 8);
  echo[3] = (uint8_t)~sum;
  struct sockaddr_in lo = v4("127.0.0.1", 0);
  sendto(icmp, echo, sizeof echo, 0, (struct sockaddr *)&lo, sizeof lo);
  for (int i = 1; i <= 4; i++) {
    char what[32];
    snprintf(what, sizeof what, "ping raw %d", i);
    show_frame(what, raw, 14);
  }
  drain(dg);
  close(icmp);

  /* MSG_TRUNC, MSG_PEEK, msg_flags. */
  send_udp(5555, "truncate me");
  readable(raw, 2000);
  char small[10];
  printf("peek 10: %s\n", res_rc(recv(raw, small, sizeof small, MSG_PEEK)));
  printf("peek 10 MSG_TRUNC: %s\n", res_rc(recv(raw, small, sizeof small, MSG_PEEK | MSG_TRUNC)));
  struct iovec iov = {small, sizeof small};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  printf("recvmsg 10: %s", res_rc(recvmsg(raw, &m, 0)));
  printf(" flags 0x%x\n", m.msg_flags);
  printf("recv 10 MSG_TRUNC: %s\n", res_rc(recv(raw, small, sizeof small, MSG_TRUNC)));
  drain(dg);

  /* PACKET_AUXDATA. */
  int on = 1;
  printf("PACKET_AUXDATA: %s\n", res_rc(setsockopt(raw, SOL_PACKET, PACKET_AUXDATA, &on, sizeof on)));
  send_udp(5555, "aux");
  readable(raw, 2000);
  for (int i = 0; i < 2; i++) {
    unsigned char buf[256];
    union {
      struct cmsghdr c;
      char b[CMSG_SPACE(sizeof(struct tpacket_auxdata)) + 64];
    } ctl;
    struct iovec io = {buf, sizeof buf};
    struct msghdr mh = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl};
    long n = recvmsg(raw, &mh, MSG_DONTWAIT);
    printf("aux %d: n %s", i, res_rc(n));
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
      printf(" cmsg level %d type %d len %zu", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
      if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
        struct tpacket_auxdata x;
        memcpy(&x, CMSG_DATA(c), sizeof x);
        printf(" status 0x%x len %u snaplen %u mac %u net %u vlan %u", x.tp_status, x.tp_len, x.tp_snaplen,
               x.tp_mac, x.tp_net, x.tp_vlan_tci);
      }
    }
    printf("\n");
  }
  drain(dg);

  /* PACKET_IGNORE_OUTGOING: only the received copy. */
  printf("PACKET_IGNORE_OUTGOING: %s\n",
         res_rc(setsockopt(dg, SOL_PACKET, PACKET_IGNORE_OUTGOING, &on, sizeof on)));
  int v = -1;
  socklen_t vl = sizeof v;
  getsockopt(dg, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, &vl);
  printf("get PACKET_IGNORE_OUTGOING: %d\n", v);
  send_udp(5555, "in only");
  show_frame("ignore outgoing", dg, 0);
  printf("then: %s\n", readable(dg, 100) ? "frame" : "nothing");
  drain(raw);
  close(raw);
  close(dg);
  close(ip6);
  close(r);
}

static void sending(void) {
  int tx = bound(SOCK_RAW, ETH_P_ALL, 1);
  int rx = bound(SOCK_RAW, ETH_P_EXP, 1);
  int rxd = bound(SOCK_DGRAM, ETH_P_EXP, 0);
  unsigned char frame[64];
  memset(frame, 0, sizeof frame);
  frame[12] = ETH_P_EXP >> 8;
  frame[13] = ETH_P_EXP & 0xff;
  memcpy(frame + 14, "experimental", 12);
  printf("send unbound ifindex: %s\n", res_rc(send(socket(AF_PACKET, SOCK_RAW, 0), frame, 26, 0)));
  printf("send bound lo: %s\n", res_rc(send(tx, frame, 26, 0)));
  show_frame("exp rx", rx, 14);
  show_frame("exp rxd", rxd, 0);
  printf("tx sees: %s\n", readable(tx, 200) ? "its frame arriving" : "nothing");
  show_frame("exp tx", tx, 14);
  struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = 1, .sll_halen = 6};
  printf("sendto short header: %s\n", res_rc(sendto(tx, frame, 10, 0, (struct sockaddr *)&to, sizeof to)));
  printf("sendto addrlen 8: %s\n", res_rc(sendto(tx, frame, 26, 0, (struct sockaddr *)&to, 8)));
  to.sll_ifindex = 99;
  printf("sendto ifindex 99: %s\n", res_rc(sendto(tx, frame, 26, 0, (struct sockaddr *)&to, sizeof to)));
  to.sll_ifindex = 1;
  to.sll_family = AF_INET;
  printf("sendto AF_INET: %s\n", res_rc(sendto(tx, frame, 26, 0, (struct sockaddr *)&to, sizeof to)));
  to.sll_family = AF_PACKET;
  static unsigned char big[70000];
  memcpy(big, frame, 14);
  printf("sendto 70000: %s\n", res_rc(sendto(tx, big, sizeof big, 0, (struct sockaddr *)&to, sizeof to)));
  /* SOCK_DGRAM builds lo's header from sll_protocol and sll_addr. */
  int dtx = socket(AF_PACKET, SOCK_DGRAM, 0);
  to.sll_protocol = htons(ETH_P_EXP);
  printf("dgram sendto: %s\n", res_rc(sendto(dtx, "built header", 12, 0, (struct sockaddr *)&to, sizeof to)));
  show_frame("built rx", rx, 14);
  show_frame("built rxd", rxd, 0);
  drain(tx);
  close(dtx);
  close(tx);
  close(rx);
  close(rxd);
}

static void statistics(void) {
  int s = bound(SOCK_DGRAM, ETH_P_IP, 1);
  int small = 0;
  setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  int v = 0;
  socklen_t vl = sizeof v;
  getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &vl);
  printf("SO_RCVBUF after 0: %d\n", v);
  int r = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in at = v4("127.0.0.1", 5556);
  bind(r, (struct sockaddr *)&at, sizeof at);
  for (int i = 0; i < 40; i++) send_udp(5556, "flood of small datagrams");
  int got = 0;
  char buf[256];
  while (readable(s, 200) && recv(s, buf, sizeof buf, MSG_DONTWAIT) > 0) got++;
  struct tpacket_stats st;
  socklen_t sl = sizeof st;
  printf("PACKET_STATISTICS: %s", res_rc(getsockopt(s, SOL_PACKET, PACKET_STATISTICS, &st, &sl)));
  printf(" len %u packets %u drops>0 %d received+drops==packets %d\n", (unsigned)sl, st.tp_packets,
         st.tp_drops > 0, got + (int)st.tp_drops == (int)st.tp_packets);
  sl = sizeof st;
  getsockopt(s, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
  printf("again: packets %u drops %u\n", st.tp_packets, st.tp_drops);
  sl = 4;
  printf("PACKET_STATISTICS len 4: %s", res_rc(getsockopt(s, SOL_PACKET, PACKET_STATISTICS, &st, &sl)));
  printf(" -> %u\n", (unsigned)sl);
  close(s);
  close(r);
}

static void options(void) {
  int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  struct packet_mreq mr = {.mr_ifindex = 1, .mr_type = PACKET_MR_PROMISC};
  printf("ADD promisc: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr)));
  printf("ADD promisc again: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr)));
  printf("DROP promisc: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &mr, sizeof mr)));
  printf("DROP promisc again: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &mr, sizeof mr)));
  printf("DROP promisc third: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &mr, sizeof mr)));
  mr.mr_type = PACKET_MR_ALLMULTI;
  printf("ADD allmulti: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr)));
  mr.mr_type = PACKET_MR_MULTICAST;
  mr.mr_alen = 6;
  unsigned char group[6] = {1, 0, 0x5e, 0, 0, 1};
  memcpy(mr.mr_address, group, 6);
  printf("ADD multicast: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr)));
  mr.mr_alen = 9;
  printf("ADD multicast alen 9: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr)));
  mr.mr_alen = 6;
  mr.mr_type = 9;
  printf("ADD type 9: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr)));
  mr.mr_type = PACKET_MR_PROMISC;
  mr.mr_ifindex = 99;
  printf("ADD ifindex 99: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr)));
  printf("ADD len 4: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, 4)));
  mr.mr_ifindex = 1;
  printf("DROP never added: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &mr, sizeof mr)));

  int v = -1;
  socklen_t vl = sizeof v;
  printf("get PACKET_VERSION: %s", res_rc(getsockopt(s, SOL_PACKET, PACKET_VERSION, &v, &vl)));
  printf(" -> %d\n", v);
  for (int ver = 0; ver <= 3; ver++) {
    v = ver;
    vl = sizeof v;
    printf("PACKET_HDRLEN %d: %s", ver, res_rc(getsockopt(s, SOL_PACKET, PACKET_HDRLEN, &v, &vl)));
    printf(" -> %d\n", v);
  }
  v = TPACKET_V3;
  printf("set PACKET_VERSION 3: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_VERSION, &v, sizeof v)));
  v = 7;
  printf("set PACKET_VERSION 7: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_VERSION, &v, sizeof v)));
  vl = sizeof v;
  getsockopt(s, SOL_PACKET, PACKET_VERSION, &v, &vl);
  printf("PACKET_VERSION now %d\n", v);
  v = 64;
  printf("set PACKET_RESERVE 64: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_RESERVE, &v, sizeof v)));
  v = -1;
  vl = sizeof v;
  getsockopt(s, SOL_PACKET, PACKET_RESERVE, &v, &vl);
  printf("PACKET_RESERVE now %d\n", v);
  v = 1;
  printf("set PACKET_AUXDATA short: %s\n", res_rc(setsockopt(s, SOL_PACKET, PACKET_AUXDATA, &v, 2)));
  vl = sizeof v;
  printf("get PACKET_AUXDATA: %s", res_rc(getsockopt(s, SOL_PACKET, PACKET_AUXDATA, &v, &vl)));
  printf(" -> %d\n", v);
  printf("set unknown 99: %s\n", res_rc(setsockopt(s, SOL_PACKET, 99, &v, sizeof v)));
  vl = sizeof v;
  printf("get unknown 99: %s\n", res_rc(getsockopt(s, SOL_PACKET, 99, &v, &vl)));
  printf("SO_BINDTODEVICE lo: %s\n", res_rc(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3)));
  char name[IFNAMSIZ] = "";
  socklen_t nl = sizeof name;
  getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, name, &nl);
  printf("SO_BINDTODEVICE now '%s'\n", name);
  close(s);
}

/* A filter that keeps IPv4 UDP (the first 64 bytes of it) and drops the rest. */
static void filter(void) {
  int s = bound(SOCK_RAW, ETH_P_ALL, 1);
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 3),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 44),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog = {.len = 6, .filter = code};
  printf("SO_ATTACH_FILTER: %s\n", res_rc(setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog)));
  int icmp = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  unsigned char echo[8] = {8, 0, 0xf7, 0xff, 0, 0, 0, 0};
  struct sockaddr_in lo = v4("127.0.0.1", 0);
  sendto(icmp, echo, sizeof echo, 0, (struct sockaddr *)&lo, sizeof lo);
  send_udp(5557, "filtered datagram, cut to 44 bytes");
  show_frame("filtered 1", s, 14);
  show_frame("filtered 2", s, 14);
  printf("then: %s\n", readable(s, 100) ? "frame" : "nothing");
  printf("SO_DETACH_FILTER: %s\n", res_rc(setsockopt(s, SOL_SOCKET, SO_DETACH_FILTER, &icmp, sizeof icmp)));
  printf("SO_DETACH_FILTER again: %s\n", res_rc(setsockopt(s, SOL_SOCKET, SO_DETACH_FILTER, &icmp, sizeof icmp)));
  close(icmp);
  close(s);
}

/* /proc/net/packet: every column but the socket pointer, and the inode as the fd's. */
static void proc_packet(void) {
  int raw = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  int dgram = socket(AF_PACKET, SOCK_DGRAM, 0);
  struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = 1};
  if (raw < 0 || dgram < 0 || bind(raw, (struct sockaddr *)&ll, sizeof ll)) {
    perror("proc_packet");
    return;
  }
  void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, raw, 0);
  printf("mmap without a ring: %s\n", m == MAP_FAILED ? strerrorname_np(errno) : "mapped");
  struct stat a, b;
  fstat(raw, &a);
  fstat(dgram, &b);
  FILE *f = fopen("/proc/net/packet", "r");
  char line[256];
  if (!f || !fgets(line, sizeof line, f)) {
    printf("/proc/net/packet: unreadable\n");
    return;
  }
  printf("/proc/net/packet header: %s", line);
  while (fgets(line, sizeof line, f)) {
    char sk[32];
    int ref, type, iface, running;
    unsigned proto, rmem, user;
    unsigned long inode;
    if (sscanf(line, "%31s %d %d %x %d %d %u %u %lu", sk, &ref, &type, &proto, &iface, &running, &rmem, &user,
               &inode) != 9) {
      printf("/proc/net/packet: bad line %s", line);
      continue;
    }
    const char *which = inode == a.st_ino ? "raw" : inode == b.st_ino ? "dgram" : "other";
    char digits[32];
    /* The line's length but the inode's field, %-6lu (inode numbers differ between kernels). */
    size_t field = (size_t)snprintf(digits, sizeof digits, "%lu", inode);
    size_t rest = strlen(line) - (field > 6 ? field : 6);
    printf("/proc/net/packet %s: ref %d type %d proto %04x iface %d R %d rmem %u user %u width %zu\n", which,
           ref, type, proto, iface, running, rmem, user, rest);
  }
  fclose(f);
  close(raw);
  close(dgram);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  proc_packet();
  no_cap();
  creation();
  binding();
  capture();
  sending();
  statistics();
  options();
  filter();
  return 0;
}
