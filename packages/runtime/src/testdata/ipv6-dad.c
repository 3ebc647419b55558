// Duplicate address detection of eth0's link-local address when eth0 comes up (RFC 4862 §5.4,
// Linux's addrconf_dad_start): takes eth0 down and up (SIOCSIFFLAGS), then shows the address
// tentative (IFA_F_TENTATIVE in /proc/net/if_inet6, bind(2) to it EADDRNOTAVAIL, no source for a
// connect(2) to a link-local peer: EADDRNOTAVAIL) until DAD
// passes 1 to 2 s later, the neighbour solicitation from :: that DAD sent (seen by a packet
// socket on eth0), and the address valid after. Run on a veth in a namespace of its own
// (IPv6 on, its MAC 02:42:0a:00:02:0f) and in network mode `sandbox` with IPv6: both must
// print the same.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/ip6.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *LL = "fe80::42:aff:fe00:20f";
static const char *LL_HEX = "fe8000000000000000420afffe00020f";

/** The address's IFA_F_* flags in /proc/net/if_inet6, or -1 when it is not there. */
static int inet6_flags(void) {
  FILE *f = fopen("/proc/net/if_inet6", "r");
  if (!f) return -1;
  char addr[40], name[IF_NAMESIZE + 1];
  unsigned idx, plen, scope, flags;
  int found = -1;
  while (fscanf(f, "%39s %x %x %x %x %16s", addr, &idx, &plen, &scope, &flags, name) == 6)
    if (strcmp(addr, LL_HEX) == 0 && strcmp(name, "eth0") == 0) found = (int)flags;
  fclose(f);
  return found;
}

/** bind(2) of a UDP socket to the address on eth0: 0, or the errno. */
static int bind_ll(void) {
  int s = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_scope_id = if_nametoindex("eth0")};
  inet_pton(AF_INET6, LL, &a.sin6_addr);
  int r = bind(s, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : errno;
  close(s);
  return r;
}

/** connect(2) of a UDP socket to fe80::1 on eth0, which needs a source address: 0, or the errno. */
static int connect_peer(void) {
  int s = socket(AF_INET6, SOCK_DGRAM, 0);
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(9), .sin6_scope_id = if_nametoindex("eth0")};
  inet_pton(AF_INET6, "fe80::1", &a.sin6_addr);
  int r = connect(s, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : errno;
  close(s);
  return r;
}

static void set_up(int up) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "eth0");
  ioctl(s, SIOCGIFFLAGS, &ifr);
  if (up) ifr.ifr_flags |= IFF_UP;
  else ifr.ifr_flags &= ~IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) perror("SIOCSIFFLAGS");
  close(s);
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/** Whether a DAD solicitation for the address (from ::, to its solicited-node group) is queued on `p`. */
static int saw_dad_solicitation(int p) {
  unsigned char frame[2048];
  struct in6_addr target;
  inet_pton(AF_INET6, LL, &target);
  for (;;) {
    ssize_t n = recv(p, frame, sizeof frame, MSG_DONTWAIT);
    if (n < 0 && errno == ENETDOWN) continue; // reported once: the socket was bound while down
    if (n < 0) return 0;
    if (n < (ssize_t)(14 + sizeof(struct ip6_hdr) + sizeof(struct nd_neighbor_solicit))) continue;
    if (frame[12] != 0x86 || frame[13] != 0xdd) continue;
    struct ip6_hdr *ip = (struct ip6_hdr *)(frame + 14);
    struct nd_neighbor_solicit *ns = (struct nd_neighbor_solicit *)(ip + 1);
    if (ip->ip6_nxt != IPPROTO_ICMPV6 || ns->nd_ns_type != ND_NEIGHBOR_SOLICIT) continue;
    if (!IN6_IS_ADDR_UNSPECIFIED(&ip->ip6_src) || ip->ip6_hlim != 255) continue;
    if (memcmp(&ns->nd_ns_target, &target, 16) != 0) continue;
    // ff02::1:ff00:20f, the solicited-node group of the address.
    const unsigned char group[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 2, 0x0f};
    return memcmp(&ip->ip6_dst, group, 16) == 0;
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("before: flags %02x bind %d\n", inet6_flags(), bind_ll());
  set_up(0);
  printf("down: flags %d bind %s\n", inet6_flags(), strerror(bind_ll()));
  // ETH_P_ALL: only such sockets see what the host sends (dev_queue_xmit_nit).
  int p = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  struct sockaddr_ll ll = {.sll_family = AF_PACKET,
                           .sll_protocol = htons(ETH_P_ALL),
                           .sll_ifindex = (int)if_nametoindex("eth0")};
  if (p < 0 || bind(p, (struct sockaddr *)&ll, sizeof ll) != 0) perror("packet socket");
  set_up(1);
  // Linux adds the address when the veth's carrier is seen (linkwatch, up to 1 s later).
  double start = now_s();
  int flags;
  while ((flags = inet6_flags()) < 0 && now_s() - start < 2) usleep(1000);
  start = now_s();
  printf("up: flags %02x bind %s connect %s\n", flags, strerror(bind_ll()), strerror(connect_peer()));
  while (((flags = inet6_flags()) & 0x40) && now_s() - start < 5) usleep(20000);
  double took = now_s() - start;
  // dad_transmits (1) x RetransTimer (1 s) after a random delay below rtr_solicit_delay (1 s):
  // 1 to 2 s, with a second of slack for a loaded machine.
  printf("DAD done after 1 to 3 s: %s\n", took >= 0.95 && took < 3 ? "yes" : "no");
  printf("after: flags %02x bind %d connect %d\n", flags, bind_ll(), connect_peer());
  printf("DAD solicitation sent: %s\n", saw_dad_solicitation(p) ? "yes" : "no");
  return 0;
}
