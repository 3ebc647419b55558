/* SO_BINDTODEVICE's effect on TCP and UDP sockets, run by bind-device-diff.test.ts in a network
 * namespace with `lo` and a veth `eth0` (10.9.0.1/24): which datagrams and connections reach a
 * server bound to each device from a client bound to each device, to 127.0.0.1 and to the NIC's
 * address; which second bind of a port succeeds; an index no device has. The TypeScript twin
 * prints the same lines from netstack. */
#define _GNU_SOURCE
#include "host-diff.test-util.h"
#include "bind-device.test-util.h"
#include <net/if.h>

static const char *IPS[] = {"127.0.0.1", "10.9.0.1"};

/* IP_PKTINFO of a datagram from a client bound to each device (or none) to each address: the
 * link it arrived on, ipi_spec_dst and ipi_addr. */
static void pktinfo(void) {
  const char *devs[] = {"", "lo", "eth0"};
  int port = 6000;
  for (int d = 0; d < 3; d++)
    for (int i = 0; i < 2; i++) {
      int s = socket(AF_INET, SOCK_DGRAM, 0), c = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
      setsockopt(s, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
      struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(++port)};
      bind(s, (struct sockaddr *)&a, sizeof a);
      if (*devs[d]) setsockopt(c, SOL_SOCKET, SO_BINDTODEVICE, devs[d], strlen(devs[d]));
      inet_pton(AF_INET, IPS[i], &a.sin_addr);
      sendto(c, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
      usleep(20000);
      char buf[8], cb[256], name[IF_NAMESIZE] = "none", spec[32] = "-", addr[32] = "-";
      struct iovec iov = {buf, sizeof buf};
      struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb, .msg_controllen = sizeof cb};
      if (recvmsg(s, &m, MSG_DONTWAIT) >= 0)
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
          if (h->cmsg_level != IPPROTO_IP || h->cmsg_type != IP_PKTINFO) continue;
          struct in_pktinfo p;
          memcpy(&p, CMSG_DATA(h), sizeof p);
          if (!if_indextoname(p.ipi_ifindex, name)) snprintf(name, sizeof name, "%d", p.ipi_ifindex);
          inet_ntop(AF_INET, &p.ipi_spec_dst, spec, sizeof spec);
          inet_ntop(AF_INET, &p.ipi_addr, addr, sizeof addr);
        }
      printf("pktinfo cli=%s dst=%s: ifindex %s spec %s addr %s\n", devs[d], IPS[i], name, spec, addr);
      close(s);
      close(c);
    }
}

int main(void) {
  bind_device_matrix(IPS, IPS);
  pktinfo();
  return 0;
}
