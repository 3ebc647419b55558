/* Helpers shared by the mount conformance programs (mount.c, mount-file-bind.c,
 * mount-propagation.c, mount-ops.c): paths below the test's directory and results printed as
 * errno names, so the native and sandboxed runs print comparable lines. */
#ifndef MOUNT_UTIL_H
#define MOUNT_UTIL_H
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Which mount a walk finds at `rel`: the id file of the tmpfs there (of `rel` itself when it is a
 * file, a bind-mounted id file). */
MOUNT_UTIL_UNUSED static void who(const char *rel) {
  char path[900], buf[64];
  struct stat st;
  if (stat(p(rel), &st) != 0) {
    printf("who %s: %s\n", rel, ename(errno));
    return;
  }
  if (S_ISDIR(st.st_mode)) snprintf(path, sizeof path, "%s/id", p(rel));
  else snprintf(path, sizeof path, "%s", p(rel));
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    printf("who %s: %s\n", rel, ename(errno));
    return;
  }
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n < 0 ? 0 : n] = 0;
  printf("who %s: %s\n", rel, buf);
}

/* Peer group ids renumbered in order of appearance (the host's and tsvisor's ids differ). */
static int groups[64], ngroups;
MOUNT_UTIL_UNUSED static int group(int id) {
  for (int i = 0; i < ngroups; i++)
    if (groups[i] == id) return i + 1;
  groups[ngroups] = id;
  return ++ngroups;
}

/* Splits a /proc/self/mountinfo line (id parent maj:min root mountpoint options [optional...] -
 * type source super) into `fields`; returns their count, or 0 for a mount not at or below
 * `base`. */
MOUNT_UTIL_UNUSED static int base_mount_fields(char *line, char *fields[64]) {
  int nf = 0;
  for (char *s = strtok(line, " \n"); s && nf < 64; s = strtok(NULL, " \n")) fields[nf++] = s;
  size_t n = strlen(base);
  if (nf < 10 || strncmp(fields[4], base, n) != 0 || (fields[4][n] != '/' && fields[4][n] != 0)) return 0;
  return nf;
}

/* The mountinfo lines of mounts at or below `base`: the directory shown as BASE, without mount
 * ids, device numbers and superblock options, peer groups renumbered. */
MOUNT_UTIL_UNUSED static void show_mountinfo(const char *title) {
  printf("-- %s\n", title);
  FILE *f = fopen("/proc/self/mountinfo", "r");
  if (!f) { perror("mountinfo"); exit(1); }
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    char *fields[64];
    int nf = base_mount_fields(line, fields);
    if (nf == 0) continue;
    printf("BASE%s %s %s", fields[4] + strlen(base), fields[3], fields[5]);
    int i = 6;
    for (; i < nf && strcmp(fields[i], "-") != 0; i++) {
      int id;
      if (sscanf(fields[i], "shared:%d", &id) == 1) printf(" shared:%d", group(id));
      else if (sscanf(fields[i], "master:%d", &id) == 1) printf(" master:%d", group(id));
      else printf(" %s", fields[i]);
    }
    if (i + 2 < nf) printf(" - %s %s", fields[i + 1], fields[i + 2]);
    printf("\n");
  }
  fclose(f);
}
#endif
