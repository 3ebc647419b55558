/* Helpers shared by the mount conformance programs (mount.c, mount-file-bind.c,
 * mount-propagation.c, mount-ops.c): paths below the test's directory and results printed as
 * errno names, so the native and sandboxed runs print comparable lines. */
#ifndef MOUNT_UTIL_H
#define MOUNT_UTIL_H
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MOUNT_UTIL_UNUSED __attribute__((unused))

/* The directory everything happens below (argv[1], or a case's own directory). */
static char base[600];

/* An errno as its name ("0" for none). */
MOUNT_UTIL_UNUSED static const char *ename(int e) {
  if (e == 0) return "0";
  const char *n = strerrorname_np(e);
  return n ? n : strerror(e);
}

/* `base/rel`, in one of four rotating buffers (so a call can take several paths). */
MOUNT_UTIL_UNUSED static const char *p(const char *rel) {
  static char bufs[4][800];
  static int i;
  char *b = bufs[i++ % 4];
  snprintf(b, 800, "%s/%s", base, rel);
  return b;
}

/* "what: 0" or "what: ERRNO" for a call that returned `rc`. */
MOUNT_UTIL_UNUSED static void show(const char *what, int rc) {
  printf("%s: %s\n", what, rc == 0 ? "0" : ename(errno));
}
#endif
