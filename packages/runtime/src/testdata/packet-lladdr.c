/* The link header a SOCK_DGRAM packet socket builds from sendto's sockaddr_ll, as a SOCK_RAW
 * capture on the same link sees it (packet-lladdr.test.ts). `packet-lladdr lo` runs natively in a
 * fresh network namespace and under tsvisor --network none; `packet-lladdr eth0` natively beside
 * a veth eth0 and under tsvisor --network sandbox. The outputs must match.
 *
 * Linux's packet_snd hands sll_addr to dev_hard_header whatever sll_halen says (only
 * msg_namelen is checked against it), and eth_header copies 6 bytes of it into h_dest, on lo as
 * on an Ethernet device; without an address (send on a bound socket) lo gets a zero destination
 * and an ARP device EINVAL. For ETH_P_802_3 and ETH_P_802_2 the header carries the payload's
 * length (an 802.3 frame), whose protocol a receiver reads back from the payload. Frames of other
 * ethertypes (IPv6 neighbour discovery on the veth) are not printed; the source address is
 * printed only as whether it is the link's own. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

#define ETH_P_EXP 0x88b5

static int ifindex;
static unsigned char own[6];

/** Prints every frame of ETH_P_EXP the capture `rx` gets until none comes for 200 ms. */
static void show(int rx) {
  unsigned char buf[256];
  struct sockaddr_ll from;
  struct pollfd p = {.fd = rx, .events = POLLIN};
  while (poll(&p, 1, 200) > 0) {
    socklen_t fl = sizeof from;
    long n = recvfrom(rx, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    unsigned type = n >= 14 ? (unsigned)(buf[12] << 8 | buf[13]) : 0;
    if (n < 14 || (type != ETH_P_EXP && type >= ETH_P_802_3_MIN)) continue;
    printf("  pkttype %u n %ld", from.sll_pkttype, n);
    if (type < ETH_P_802_3_MIN) printf(" length field %u protocol %u", type, ntohs(from.sll_protocol));
    printf(" dst");
    for (int i = 0; i < 6; i++) printf("%s%02x", i ? ":" : " ", buf[i]);
    printf(" src %s payload ", memcmp(buf + 6, own, 6) ? "other" : "own");
    for (long i = 14; i < n; i++) putchar(buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '.');
    putchar('\n');
  }
}

/** sendto from `tx` with a sockaddr_ll of `namelen` bytes giving `halen` and `addr`; prints the result and the capture. */
static void send_with(int tx, int rx, const char *what, socklen_t namelen, int halen,
                      const unsigned char *addr) {
  struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_EXP), .sll_ifindex = ifindex};
  to.sll_halen = halen;
  memcpy(to.sll_addr, addr, 8);
  long r = sendto(tx, what, strlen(what), 0, (struct sockaddr *)&to, namelen);
  printf("%s: namelen %u halen %d: %s\n", what, (unsigned)namelen, halen, res_rc(r));
  show(rx);
}

int main(int argc, char **argv) {
  const char *dev = argc > 1 ? argv[1] : "lo";
  setvbuf(stdout, NULL, _IONBF, 0);
  ifindex = if_nametoindex(dev);
  if (ifindex == 0) {
    printf("no %s\n", dev);
    return 1;
  }
  int rx = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  int tx = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_EXP));
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
  if (rx < 0 || tx < 0 || ioctl(rx, SIOCGIFHWADDR, &ifr) < 0) {
    perror("setup");
    return 1;
  }
  memcpy(own, ifr.ifr_hwaddr.sa_data, 6);
  struct sockaddr_ll at = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
  if (bind(rx, (struct sockaddr *)&at, sizeof at) < 0) {
    perror("bind");
    return 1;
  }
  printf("%s: hatype %u\n", dev, ifr.ifr_hwaddr.sa_family);

  const unsigned char unicast[8] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
  const unsigned char other[8] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x01, 0x02};
  const unsigned char zero[8] = {0};
  send_with(tx, rx, "halen6", sizeof(struct sockaddr_ll), 6, unicast);
  send_with(tx, rx, "halen0", sizeof(struct sockaddr_ll), 0, other);
  send_with(tx, rx, "halen2", sizeof(struct sockaddr_ll), 2, unicast);
  send_with(tx, rx, "halen8", sizeof(struct sockaddr_ll), 8, other);
  send_with(tx, rx, "zero", sizeof(struct sockaddr_ll), 6, zero);
  send_with(tx, rx, "short", sizeof(struct sockaddr_ll) - 1, 6, unicast);
  send_with(tx, rx, "halen9", sizeof(struct sockaddr_ll), 9, unicast);
  send_with(tx, rx, "halen9long", sizeof(struct sockaddr_ll) + 4, 9, unicast);
  /* eth_type_trans: a group address is PACKET_BROADCAST only if it is the device's broadcast
   * address, which lo's is not (it is all zeros): there both are PACKET_MULTICAST. */
  const unsigned char bcast[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  const unsigned char mcast[8] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
  send_with(tx, rx, "bcast", sizeof(struct sockaddr_ll), 6, bcast);
  send_with(tx, rx, "mcast", sizeof(struct sockaddr_ll), 6, mcast);
  /* eth_header writes the payload's length, not the protocol, for ETH_P_802_3 and ETH_P_802_2;
   * eth_type_trans reads a length field back as ETH_P_802_2 (ETH_P_802_3 when the payload starts
   * with 0xffff, raw IPX). */
  const unsigned short llc[] = {ETH_P_802_3, ETH_P_802_2};
  const char *llc_name[] = {"802.3", "802.2"};
  for (int i = 0; i < 2; i++) {
    struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = htons(llc[i]), .sll_ifindex = ifindex, .sll_halen = 6};
    memcpy(to.sll_addr, unicast, 6);
    long r = sendto(tx, "\xff\xffipx", 5, 0, (struct sockaddr *)&to, sizeof to);
    printf("%s raw: %s\n", llc_name[i], res_rc(r));
    show(rx);
    r = sendto(tx, "llc-frame", 9, 0, (struct sockaddr *)&to, sizeof to);
    printf("%s llc: %s\n", llc_name[i], res_rc(r));
    show(rx);
  }

  /* SOCK_RAW: the frame carries its own header; a capture sees the protocol the socket sends
   * with (packet_snd's skb->protocol), the header's only when that is 0 or ETH_P_ALL. */
  const int raw_protos[] = {ETH_P_EXP, 0, ETH_P_ALL};
  for (int k = 0; k < 3; k++) {
    int raw = socket(AF_PACKET, SOCK_RAW, htons(raw_protos[k]));
    unsigned char f[19] = {0};
    memcpy(f, unicast, 6);
    memcpy(f + 6, own, 6);
    f[12] = ETH_P_EXP >> 8;
    f[13] = (ETH_P_EXP & 0xff) + 1;
    memcpy(f + 14, "rawfr", 5);
    struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = htons(raw_protos[k]), .sll_ifindex = ifindex};
    long r = sendto(raw, f, sizeof f, 0, (struct sockaddr *)&to, sizeof to);
    printf("raw with protocol %#x: %s\n", raw_protos[k], res_rc(r));
    unsigned char buf[64];
    struct sockaddr_ll from;
    struct pollfd p = {.fd = rx, .events = POLLIN};
    while (poll(&p, 1, 200) > 0) {
      socklen_t fl = sizeof from;
      long n = recvfrom(rx, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
      if (n == sizeof f && memcmp(buf + 14, "rawfr", 5) == 0)
        printf("  pkttype %u protocol %#x\n", from.sll_pkttype, ntohs(from.sll_protocol));
    }
    close(raw);
  }

  /* No address: the bound socket's link and protocol, no destination given to eth_header. */
  struct sockaddr_ll b = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_EXP), .sll_ifindex = ifindex};
  if (bind(tx, (struct sockaddr *)&b, sizeof b) < 0) {
    perror("bind tx");
    return 1;
  }
  long r = send(tx, "bound", 5, 0);
  printf("bound: %s\n", res_rc(r));
  show(rx);
  return 0;
}
