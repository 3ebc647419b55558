/* Reading a whole /proc file in the conformance programs that compare counters (they define
 * _GNU_SOURCE first, for strerrorname_np). */
#ifndef PROC_UTIL_H
#define PROC_UTIL_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text of the file at `path` (up to 64 KiB), in a buffer the next call reuses; a file that
 * cannot be opened ends the program with status 1 after saying so. */
__attribute__((unused)) static char *slurp(const char *path) {
  static char buf[65536];
  FILE *f = fopen(path, "r");
  if (!f) {
    printf("open %s: %s\n", path, strerrorname_np(errno));
    exit(1);
  }
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}
#endif
