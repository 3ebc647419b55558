/* DF on the IPv4 datagrams of UDP sockets and of the stack's own ICMP messages, natively in a
 * fresh network namespace and under tsvisor (dgram-df.test.ts). A UDP socket sets DF as
 * IP_MTU_DISCOVER says (__ip_make_skb): under WANT on what fits the path MTU, under DO and PROBE
 * always, under DONT, INTERFACE and OMIT never; it fragments to the path MTU below PROBE
 * (ip_sk_use_pmtu) and to the link's from PROBE on. A fragmentation-needed message teaches the
 * path MTU unless the socket is under INTERFACE or OMIT (ip_sk_accept_pmtu); one below
 * net.ipv4.route.min_pmtu locks the MTU at 552, and then WANT sends without DF too, on UDP and
 * raw sockets (ip_dont_fragment). The stack answers
 * from icmp_sk, which is under DONT: its port unreachable and echo reply carry no DF, and a reply
 * larger than the path MTU back leaves in fragments. A packet socket on lo shows each packet:
 * addresses, protocol, length, DF, MF and fragment offset. */
#define _GNU_SOURCE
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>

#include "recv-err-util.h"

static int sniff;

/* Prints the IP packets the packet socket saw since the last call. */
static void show_packets(void) {
  unsigned char p[70000];
  long n;
  while ((n = recv(sniff, p, sizeof p, MSG_DONTWAIT)) >= 20) {
    unsigned frag = p[6] << 8 | p[7];
    printf("  %u.%u.%u.%u > %u.%u.%u.%u proto %u len %u%s%s offset %u", p[12], p[13], p[14], p[15], p[16], p[17],
           p[18], p[19], p[9], p[2] << 8 | p[3], frag & 0x4000 ? " DF" : "", frag & 0x2000 ? " MF" : "",
           (frag & 0x1fff) * 8);
    if (p[9] == IPPROTO_ICMP && (frag & 0x1fff) == 0) printf(" icmp type %u code %u", p[20], p[21]);
    printf("\n");
  }
}

static const char *const MODES[] = {"DONT", "WANT", "DO", "PROBE", "INTERFACE", "OMIT"};

static void set_pmtudisc(int fd, int mode) { setsockopt(fd, SOL_IP, IP_MTU_DISCOVER, &mode, sizeof mode); }

static struct sockaddr_in addr(const char *a, int port) {
  return (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = inet_addr(a)};
}

/* Sends `n` bytes on the connected UDP socket `s` under each mode. */
static void udp_modes(int s, size_t n) {
  static char d[2000];
  for (int m = 0; m < 6; m++) {
    set_pmtudisc(s, m);
    printf("udp %zu under %s: %s\n", n, MODES[m], res(send(s, d, n, 0)));
    sleep_ms(10);
    show_packets();
  }
}

/* Sends a fragmentation-needed message with MTU `mtu` quoting what the UDP socket `s` sent. */
static void frag_needed(int raw, int s, int mtu) {
  struct sockaddr_in me, peer;
  socklen_t ml = sizeof me, pl = sizeof peer;
  getsockname(s, (struct sockaddr *)&me, &ml);
  getpeername(s, (struct sockaddr *)&peer, &pl);
  unsigned char l4[8];
  udp_quote(l4, me.sin_port, peer.sin_port, 1408);
  icmp4_error(raw, 3, 4, mtu, peer.sin_addr.s_addr, IPPROTO_UDP, 1428, l4);
  show_packets();
  int v = -1;
  socklen_t vl = sizeof v;
  getsockopt(s, SOL_IP, IP_MTU, &v, &vl);
  printf("  IP_MTU %d SO_ERROR %s\n", v, ename(so_error(s)));
}

static void udp(int raw) {
  struct sockaddr_in a = addr("127.0.0.5", 9);
  int r = socket(AF_INET, SOCK_DGRAM, 0);
  bind(r, (struct sockaddr *)&a, sizeof a);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  connect(s, (struct sockaddr *)&a, sizeof a);
  udp_modes(s, 100);
  /* Under OMIT and INTERFACE the message is no error and teaches nothing. */
  set_pmtudisc(s, IP_PMTUDISC_OMIT);
  printf("frag needed 1000 under OMIT:\n");
  frag_needed(raw, s, 1000);
  set_pmtudisc(s, IP_PMTUDISC_INTERFACE);
  printf("frag needed 1000 under INTERFACE:\n");
  frag_needed(raw, s, 1000);
  set_pmtudisc(s, IP_PMTUDISC_WANT);
  printf("frag needed 1000 under WANT:\n");
  frag_needed(raw, s, 1000);
  udp_modes(s, 1400);
  udp_modes(s, 900);
  char in[2000];
  int got = 0;
  while (recv(r, in, sizeof in, MSG_DONTWAIT) >= 0) got++;
  printf("received %d\n", got);
  close(s);
  close(r);
}

/* WANT towards 127.0.0.8 once its MTU is locked. */
static void locked(int raw) {
  struct sockaddr_in a = addr("127.0.0.8", 9);
  int r = socket(AF_INET, SOCK_DGRAM, 0);
  bind(r, (struct sockaddr *)&a, sizeof a);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  connect(s, (struct sockaddr *)&a, sizeof a);
  printf("frag needed 400, locked at 552:\n");
  frag_needed(raw, s, 400);
  udp_modes(s, 100);
  set_pmtudisc(s, IP_PMTUDISC_WANT);
  udp_modes(s, 1000);
  /* A raw socket of protocol 253 (a sink of its own takes what it sends). */
  int sink = socket(AF_INET, SOCK_RAW, 253), r253 = socket(AF_INET, SOCK_RAW, 253);
  static char d[2000];
  for (int m = IP_PMTUDISC_WANT; m <= IP_PMTUDISC_DO; m++) {
    set_pmtudisc(r253, m);
    printf("raw 100 under %s: %s\n", MODES[m], res(sendto(r253, d, 100, 0, (struct sockaddr *)&a, sizeof a)));
    sleep_ms(10);
    show_packets();
  }
  close(r253);
  close(sink);
  close(s);
  close(r);
}

/* The stack's answers: a port unreachable, and echo replies to 127.0.0.7, whose path MTU a
 * fragmentation-needed message about a UDP socket's datagram there lowers to 800. */
static void own_icmp(int raw) {
  static char d[2000];
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in closed = addr("127.0.0.6", 7);
  printf("udp to a closed port: %s\n", res(sendto(s, d, 100, 0, (struct sockaddr *)&closed, sizeof closed)));
  sleep_ms(10);
  show_packets();
  printf("  SO_ERROR %s\n", ename(so_error(s)));

  struct sockaddr_in seven = addr("127.0.0.7", 7), one = addr("127.0.0.1", 0);
  int r = socket(AF_INET, SOCK_DGRAM, 0);
  bind(r, (struct sockaddr *)&seven, sizeof seven);
  connect(s, (struct sockaddr *)&seven, sizeof seven);
  printf("frag needed 800 for 127.0.0.7:\n");
  frag_needed(raw, s, 800);
  int e = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  bind(e, (struct sockaddr *)&seven, sizeof seven);
  for (int n = 600; n <= 1400; n += 800) {
    unsigned char req[1500] = {8};
    req[7] = n / 100;
    unsigned short c = csum(req, n);
    memcpy(req + 2, &c, 2);
    printf("echo request of %d from 127.0.0.7: %s\n", n, res(sendto(e, req, n, 0, (struct sockaddr *)&one, sizeof one)));
    sleep_ms(10);
    show_packets();
  }
  close(e);
  close(r);
  close(s);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  int raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
  sniff = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
  struct sockaddr_ll ll = {
      .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = if_nametoindex("lo")};
  if (raw < 0 || sniff < 0 || bind(sniff, (struct sockaddr *)&ll, sizeof ll)) {
    printf("sockets: %s\n", err());
    return 1;
  }
  udp(raw);
  locked(raw);
  own_icmp(raw);
  return 0;
}
