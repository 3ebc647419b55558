// Runs scripts of mount operations (random ones, from mount-ops.test.ts) as root in a private
// mount namespace, natively under `unshare -m` or under tsvisor: argv[1] is an empty directory,
// argv[2] the script. Each `case` gets a fresh tmpfs at BASE/<n> with directories x, y, z (each
// with a, b, a/a, a/b) and files f, x/f, y/f; every tmpfs mounted later gets a, b, a/a, a/b, f
// and a file `id` with its name. Lines:
//   case N | tmpfs NAME P | bind S D | rbind S D | move S D | shared P | slave P | private P |
//   unbindable P | rshared P | rslave P | rprivate P | runbindable P | umount P | lazy P | who P
// Prints each operation's result, what `who` finds (the id of the tmpfs at a directory, or a
// file's contents) and, at the end of each case, its mountinfo lines in a canonical form: sorted,
// without ids, and with each peer group named by the smallest "mount point, root, source" of its
// members (native and sandboxed runs number groups and mounts differently).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mount-util.h"

static void put(const char *path, const char *text) {
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd >= 0) {
    if (write(fd, text, strlen(text)) < 0) perror(path);
    close(fd);
  }
}

static void populate(const char *dir, const char *name) {
  static const char *dirs[] = {"a", "b", "a/a", "a/b"};
  char path[900];
  for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, dirs[i]);
    mkdir(path, 0755);
  }
  snprintf(path, sizeof path, "%s/f", dir);
  put(path, name);
  snprintf(path, sizeof path, "%s/id", dir);
  put(path, name);
}

// One mountinfo line below the case directory, split for canonicalising.
struct line {
  char text[400];   // "MP ROOT OPTIONS" + optional fields other than groups + " - TYPE SOURCE"
  char name[300];   // "MP ROOT SOURCE": what names a peer group
  int shared, master;
};

static int bystring(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void mountinfo(void) {
  static struct line lines[8192];
  int nl = 0;
  FILE *f = fopen("/proc/self/mountinfo", "r");
  if (!f) { perror("mountinfo"); exit(1); }
  char raw[4096];
  size_t n = strlen(base);
  while (fgets(raw, sizeof raw, f) && nl < 8192) {
    char *fields[64];
    int nf = 0;
    for (char *s = strtok(raw, " \n"); s && nf < 64; s = strtok(NULL, " \n")) fields[nf++] = s;
    if (nf < 10) continue;
    const char *mp = fields[4];
    if (strncmp(mp, base, n) != 0 || (mp[n] != '/' && mp[n] != 0)) continue;
    struct line *l = &lines[nl++];
    l->shared = l->master = 0;
    int len = snprintf(l->text, sizeof l->text, "CASE%s %s %s", mp + n, fields[3], fields[5]);
    int i = 6;
    for (; i < nf && strcmp(fields[i], "-") != 0; i++) {
      if (sscanf(fields[i], "shared:%d", &l->shared) == 1 || sscanf(fields[i], "master:%d", &l->master) == 1)
        continue;
      len += snprintf(l->text + len, sizeof l->text - len, " %s", fields[i]);
    }
    const char *source = i + 2 < nf ? fields[i + 2] : "?";
    snprintf(l->text + len, sizeof l->text - len, " - %s", source);
    snprintf(l->name, sizeof l->name, "CASE%s %s %s", mp + n, fields[3], source);
  }
  fclose(f);
  // Name each line's groups, then sort the finished lines (ties in the text alone would keep
  // mountinfo's order, which differs between runs).
  static char out[8192][800];
  static char *order[8192];
  for (int i = 0; i < nl; i++) {
    int len = snprintf(out[i], sizeof out[i], "%s", lines[i].text);
    int ids[2] = {lines[i].shared, lines[i].master};
    const char *kinds[2] = {"shared", "master"};
    for (int k = 0; k < 2; k++) {
      if (ids[k] == 0) continue;
      const char *best = NULL;
      for (int j = 0; j < nl; j++)
        if (lines[j].shared == ids[k] && (!best || strcmp(lines[j].name, best) < 0)) best = lines[j].name;
      len += snprintf(out[i] + len, sizeof out[i] - len, " %s:[%s]", kinds[k], best ? best : "?");
    }
    order[i] = out[i];
  }
  qsort(order, nl, sizeof *order, bystring);
  for (int i = 0; i < nl; i++) printf("%s\n", order[i]);
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  mkdir(argv[1], 0755);
  FILE *script = fopen(argv[2], "r");
  if (!script) { perror(argv[2]); return 1; }
  char line[512];
  int open_case = 0;
  while (fgets(line, sizeof line, script)) {
    char op[32], a[200], b[200];
    int nargs = sscanf(line, "%31s %199s %199s", op, a, b);
    if (nargs < 2) continue;
    if (strcmp(op, "case") == 0) {
      if (open_case) {
        mountinfo();
        printf("end of case: %s\n", umount2(base, MNT_DETACH) == 0 ? "0" : ename(errno));
      }
      snprintf(base, sizeof base, "%s/%s", argv[1], a);
      mkdir(base, 0755);
      if (mount("case", base, "tmpfs", 0, NULL) != 0) { perror("case"); return 1; }
      static const char *dirs[] = {"x", "y", "z", "x/a", "x/b", "y/a", "y/b", "z/a", "z/b",
                                   "x/a/a", "x/a/b", "y/a/a", "y/b/a"};
      for (unsigned i = 0; i < sizeof dirs / sizeof *dirs; i++) mkdir(p(dirs[i]), 0755);
      put(p("f"), "case-f");
      put(p("x/f"), "case-x-f");
      put(p("y/f"), "case-y-f");
      put(p("id"), "case");
      open_case = 1;
      printf("== case %s\n", a);
      continue;
    }
    int rc;
    if (strcmp(op, "who") == 0) {
      who(a);
      continue;
    } else if (strcmp(op, "tmpfs") == 0 && nargs == 3) {
      rc = mount(a, p(b), "tmpfs", 0, NULL);
      if (rc == 0) populate(p(b), a);
    } else if ((strcmp(op, "bind") == 0 || strcmp(op, "rbind") == 0) && nargs == 3) {
      rc = mount(p(a), p(b), NULL, MS_BIND | (op[0] == 'r' ? MS_REC : 0), NULL);
    } else if (strcmp(op, "move") == 0 && nargs == 3) {
      rc = mount(p(a), p(b), NULL, MS_MOVE, NULL);
    } else if (strcmp(op, "umount") == 0) {
      rc = umount2(p(a), 0);
    } else if (strcmp(op, "lazy") == 0) {
      rc = umount2(p(a), MNT_DETACH);
    } else {
      const char *type = op[0] == 'r' ? op + 1 : op;
      unsigned long flags = op[0] == 'r' ? MS_REC : 0;
      if (strcmp(type, "shared") == 0) flags |= MS_SHARED;
      else if (strcmp(type, "slave") == 0) flags |= MS_SLAVE;
      else if (strcmp(type, "private") == 0) flags |= MS_PRIVATE;
      else if (strcmp(type, "unbindable") == 0) flags |= MS_UNBINDABLE;
      else { fprintf(stderr, "bad op %s\n", op); return 1; }
      rc = mount(NULL, p(a), NULL, flags, NULL);
    }
    line[strcspn(line, "\n")] = 0;
    printf("%s: %s\n", line, rc == 0 ? "0" : ename(errno));
  }
  if (open_case) {
    mountinfo();
    printf("end of case: %s\n", umount2(base, MNT_DETACH) == 0 ? "0" : ename(errno));
  }
  return 0;
}
