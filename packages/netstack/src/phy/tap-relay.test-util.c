// Test helper: owns a TAP device and relays its frames over stdin/stdout, each frame preceded
// by its length (2 bytes, big-endian), so a Node process can be the TAP's far end through a
// StreamDevice. Run inside the test's network namespace: `tap-relay IFNAME`. A zero-length
// frame on stdout says the TAP exists; EOF on stdin ends the relay (the TAP goes with it).
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  int tap = open("/dev/net/tun", O_RDWR);
  if (tap < 0) return perror("open /dev/net/tun"), 1;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (ioctl(tap, TUNSETIFF, &ifr) < 0) return perror("TUNSETIFF"), 1;
  unsigned char ready[2] = {0, 0};
  if (write_all(1, ready, 2) < 0) return 1;
  static unsigned char in[1 << 20];
  size_t have = 0;
  static unsigned char frame[2 + 65536];
  for (;;) {
    struct pollfd fds[2] = {{tap, POLLIN, 0}, {0, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[0].revents & POLLIN) {
      ssize_t n = read(tap, frame + 2, 65535);
      if (n > 0) {
        frame[0] = (unsigned char)(n >> 8);
        frame[1] = (unsigned char)n;
        if (write_all(1, frame, (size_t)n + 2) < 0) return 0;
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      ssize_t n = read(0, in + have, sizeof in - have);
      if (n <= 0) return 0;
      have += (size_t)n;
      size_t off = 0;
      while (have - off >= 2) {
        size_t len = ((size_t)in[off] << 8) | in[off + 1];
        if (have - off < 2 + len) break;
        if (len > 0) write(tap, in + off + 2, len); // a full TAP queue drops, like a wire
        off += 2 + len;
      }
      memmove(in, in + off, have - off);
      have -= off;
    }
  }
}
