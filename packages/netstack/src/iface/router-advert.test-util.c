/* Sends one router advertisement with one /64 prefix information option (on-link, autonomous)
 * out of an interface to ff02::1, from its link-local address, hop limit 255.
 * Usage: router-advert IFNAME PREFIX VALID_LFT PREFERRED_LFT */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: router-advert IFNAME PREFIX VALID_LFT PREFERRED_LFT\n");
    return 2;
  }
  int s = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  if (s < 0) {
    perror("socket");
    return 1;
  }
  if (setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, argv[1], strlen(argv[1])) < 0) {
    perror("SO_BINDTODEVICE");
    return 1;
  }
  int hops = 255;
  setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
  struct {
    struct nd_router_advert ra;
    struct nd_opt_prefix_info pi;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.ra.nd_ra_type = ND_ROUTER_ADVERT;
  msg.ra.nd_ra_curhoplimit = 64;
  msg.ra.nd_ra_router_lifetime = htons(1800);
  msg.pi.nd_opt_pi_type = ND_OPT_PREFIX_INFORMATION;
  msg.pi.nd_opt_pi_len = 4;
  msg.pi.nd_opt_pi_prefix_len = 64;
  msg.pi.nd_opt_pi_flags_reserved = ND_OPT_PI_FLAG_ONLINK | ND_OPT_PI_FLAG_AUTO;
  msg.pi.nd_opt_pi_valid_time = htonl((uint32_t)strtoul(argv[3], 0, 10));
  msg.pi.nd_opt_pi_preferred_time = htonl((uint32_t)strtoul(argv[4], 0, 10));
  if (inet_pton(AF_INET6, argv[2], &msg.pi.nd_opt_pi_prefix) != 1) {
    fprintf(stderr, "bad prefix %s\n", argv[2]);
    return 2;
  }
  struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_scope_id = if_nametoindex(argv[1])};
  inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
  if (sendto(s, &msg, sizeof msg, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)sizeof msg) {
    perror("sendto");
    return 1;
  }
  return 0;
}
