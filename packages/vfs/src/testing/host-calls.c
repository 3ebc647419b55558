// The host calls hostfs gets from its assembler (mknodat, renameat2, l*xattr), as a process for
// tests: one call per run, directory fds inherited as fd 3 (and 4), names hex-encoded.
// Usage: host-calls OP ARGS...; prints "OK[ hex...]" or "E<errno>".
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static char a[8192], b[8192], value[1 << 16];

static size_t unhex(const char *h, char *out) {
  size_t n = 0;
  out[0] = 0;
  if (h[0] == '-' && h[1] == 0) return 0;
  while (h[0] && h[1]) {
    unsigned v;
    sscanf(h, "%2x", &v);
    out[n++] = (char)v;
    h += 2;
  }
  out[n] = 0;
  return n;
}

// The object: "/proc/self/fd/3/NAME" for the l* calls, or NULL (name "-"): fd 3 itself, for the
// f* calls (an l* call on the magic link would name the link).
static const char *place(const char *hexname, char *out) {
  char name[4096];
  size_t n = unhex(hexname, name);
  if (n == 0) return NULL;
  snprintf(out, 8192, "/proc/self/fd/3/%s", name);
  return out;
}

static int fail(void) {
  printf("E%d\n", errno);
  return 0;
}

static void hex(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) printf("%02x", (unsigned char)p[i]);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *op = argv[1];
  if (!strcmp(op, "mknodat") && argc == 5) {
    unhex(argv[2], a);
    if (mknodat(3, a, (mode_t)strtoul(argv[3], NULL, 10), (dev_t)strtoull(argv[4], NULL, 10)) < 0) return fail();
  } else if (!strcmp(op, "renameat2") && argc == 5) {
    unhex(argv[2], a);
    unhex(argv[3], b);
    if (syscall(SYS_renameat2, 3, a, 4, b, (unsigned)strtoul(argv[4], NULL, 10)) < 0) return fail();
  } else if (!strcmp(op, "lseek") && argc == 4) {
    off_t r = lseek(3, (off_t)strtoll(argv[2], NULL, 10), atoi(argv[3]));
    if (r < 0) return fail();
    printf("OK %lld\n", (long long)r);
    return 0;
  } else if (!strcmp(op, "getxattr") && argc == 4) {
    const char *p = place(argv[2], a);
    unhex(argv[3], b);
    ssize_t n = p ? lgetxattr(p, b, value, sizeof value) : fgetxattr(3, b, value, sizeof value);
    if (n < 0) return fail();
    printf("OK ");
    hex(value, (size_t)n);
    printf("\n");
    return 0;
  } else if (!strcmp(op, "setxattr") && argc == 6) {
    const char *p = place(argv[2], a);
    unhex(argv[3], b);
    size_t n = unhex(argv[4], value);
    int fl = atoi(argv[5]);
    if ((p ? lsetxattr(p, b, value, n, fl) : fsetxattr(3, b, value, n, fl)) < 0) return fail();
  } else if (!strcmp(op, "removexattr") && argc == 4) {
    const char *p = place(argv[2], a);
    unhex(argv[3], b);
    if ((p ? lremovexattr(p, b) : fremovexattr(3, b)) < 0) return fail();
  } else if (!strcmp(op, "listxattr") && argc == 3) {
    const char *p = place(argv[2], a);
    ssize_t n = p ? llistxattr(p, value, sizeof value) : flistxattr(3, value, sizeof value);
    if (n < 0) return fail();
    printf("OK");
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(value + i) + 1) {
      printf(" ");
      hex(value + i, strlen(value + i));
    }
    printf("\n");
    return 0;
  } else {
    return 2;
  }
  printf("OK\n");
  return 0;
}
