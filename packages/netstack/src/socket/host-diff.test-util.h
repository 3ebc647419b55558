/* Shared by the C halves of netstack's differential tests (see host-diff.test-util.ts): the poll
 * bits they ask for, and results printed as netstack's TypeScript twins print them. */
#ifndef HOST_DIFF_TEST_UTIL_H
#define HOST_DIFF_TEST_UTIL_H
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQ (POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | POLLRDHUP)
#define SA(x) ((struct sockaddr *)&(x))
/* Long enough for loopback segments and timers of a few ms to run (netstack: 20 virtual ms). */
#define WAIT usleep(20000)

/* The count, or the errno's name (EAGAIN as WOULD_BLOCK, netstack's name for it). */
__attribute__((unused)) static const char *res(long r) {
  static char buf[64];
  if (r >= 0) {
    snprintf(buf, sizeof buf, "%ld", r);
    return buf;
  }
  const char *n = strerrorname_np(errno);
  if (errno == EAGAIN) n = "WOULD_BLOCK";
  snprintf(buf, sizeof buf, "%s", n ? n : "?");
  return buf;
}
#endif
