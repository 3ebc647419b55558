/* SO_BINDTODEVICE's effect on TCP and UDP sockets, run by bind-device-diff.test.ts in a network
 * namespace with `lo` and a veth `eth0` (10.9.0.1/24): which datagrams and connections reach a
 * server bound to each device from a client bound to each device, to 127.0.0.1 and to the NIC's
 * address; which second bind of a port succeeds; an index no device has. The TypeScript twin
 * prints the same lines from netstack. */
#define _GNU_SOURCE
#include "host-diff.test-util.h"
#include "bind-device.test-util.h"

static const char *IPS[] = {"127.0.0.1", "10.9.0.1"};

int main(void) {
  bind_device_matrix(IPS, IPS);
  return 0;
}
