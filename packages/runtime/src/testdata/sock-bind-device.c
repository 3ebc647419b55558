/* SO_BINDTODEVICE's effect on TCP and UDP sockets, natively in a network namespace with `lo`
 * and a veth `eth0`, and under tsvisor in network mode sandbox (lo and eth0):
 * sock-bind-device.test.ts. Which datagrams and connections reach a server bound to each
 * device from a client bound to each device, to 127.0.0.1 and to eth0's address ("nic", found
 * with SIOCGIFADDR); which second bind of a port succeeds; an index no device has; who may
 * change a binding; what getsockopt reports. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-util.h"

#define SA(x) ((struct sockaddr *)&(x))
#define WAIT usleep(20000)

/* The matrix is netstack's too (its bind-device-diff test); res() and the names are ours. */
#include "../../../netstack/src/socket/bind-device.test-util.h"

static char nic[INET_ADDRSTRLEN];
static const char *IPS[] = {"127.0.0.1", nic};
static const char *SHOWN[] = {"127.0.0.1", "nic"};

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct ifreq ifr = {0};
  strcpy(ifr.ifr_name, "eth0");
  int q = socket(AF_INET, SOCK_DGRAM, 0);
  if (ioctl(q, SIOCGIFADDR, &ifr) < 0) {
    printf("no eth0 address: %s\n", strerrorname_np(errno));
    return 1;
  }
  close(q);
  inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, nic, sizeof nic);
  bind_device_matrix(IPS, SHOWN);
  /* getsockopt of a bound socket; the name and index of eth0. */
  int g = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(g, SOL_SOCKET, SO_BINDTODEVICE, "eth0", 4);
  char name[IFNAMSIZ] = "?";
  socklen_t nl = sizeof name;
  int gi = -1;
  socklen_t il = sizeof gi;
  getsockopt(g, SOL_SOCKET, SO_BINDTODEVICE, name, &nl);
  getsockopt(g, SOL_SOCKET, SO_BINDTOIFINDEX, &gi, &il);
  printf("bound to %s (len %u), index is eth0's: %s\n", name, nl, gi == (int)if_nametoindex("eth0") ? "yes" : "no");
  printf("unknown name: %s", res(setsockopt(g, SOL_SOCKET, SO_BINDTODEVICE, "nosuch0", 7)));
  printf(", empty name unbinds: %s", res(setsockopt(g, SOL_SOCKET, SO_BINDTODEVICE, "", 0)));
  gi = -1;
  getsockopt(g, SOL_SOCKET, SO_BINDTOIFINDEX, &gi, &il);
  printf(" (index %d)\n", gi);
  return 0;
}
