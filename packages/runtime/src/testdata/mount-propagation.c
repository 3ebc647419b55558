// Mount propagation (shared, slave, private, unbindable; MS_REC; umount propagation): run as root
// in a private mount namespace (natively under `unshare -m`, or under tsvisor). argv[1] is an
// empty directory; everything happens below it. Every tmpfs mounted gets a file `id` holding its
// name, so `who DIR` shows which mount a path walk finds there. mountinfo lines below the
// directory are printed without ids, device numbers and superblock options, sorted (mount ids,
// which order them, differ), with peer groups renumbered in order of appearance.
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

static void dir(const char *rel) {
  if (mkdir(p(rel), 0755) != 0 && errno != EEXIST) printf("mkdir %s: %s\n", rel, ename(errno));
}

// A new tmpfs named `name` on `rel`, with its `id` file.
static void tmpfs(const char *name, const char *rel) {
  char what[128];
  snprintf(what, sizeof what, "tmpfs %s on %s", name, rel);
  int rc = mount(name, p(rel), "tmpfs", 0, NULL);
  show(what, rc);
  if (rc != 0) return;
  char idpath[700];
  snprintf(idpath, sizeof idpath, "%s/id", p(rel));
  int fd = open(idpath, O_CREAT | O_WRONLY, 0644);
  if (fd < 0 || write(fd, name, strlen(name)) < 0) perror(idpath);
  if (fd >= 0) close(fd);
}

static void bind(const char *src, const char *dst, unsigned long flags) {
  char what[128];
  snprintf(what, sizeof what, "%s %s on %s", flags & MS_REC ? "rbind" : "bind", src, dst);
  show(what, mount(p(src), p(dst), NULL, MS_BIND | flags, NULL));
}

static void make(const char *type, const char *rel, unsigned long flags) {
  char what[128];
  snprintf(what, sizeof what, "make-%s%s %s", flags & MS_REC ? "r" : "", type, rel);
  show(what, mount(NULL, p(rel), NULL, flags, NULL));
}

static void umnt(const char *rel, int flags) {
  char what[128];
  snprintf(what, sizeof what, "umount%s %s", flags & MNT_DETACH ? " -l" : "", rel);
  show(what, umount2(p(rel), flags));
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void mountinfo(const char *title) {
  printf("-- %s\n", title);
  FILE *f = fopen("/proc/self/mountinfo", "r");
  if (!f) { perror("mountinfo"); exit(1); }
  static char lines[256][512];
  char *sorted[256];
  int nl = 0;
  char line[4096];
  while (fgets(line, sizeof line, f) && nl < 256) {
    char *fields[64];
    int nf = base_mount_fields(line, fields);
    if (nf == 0) continue;
    // Group ids stay raw here (as "#id") and are renumbered after sorting on the rest.
    char *o = lines[nl];
    int len = snprintf(o, 512, "BASE%s %s %s", fields[4] + strlen(base), fields[3], fields[5]);
    int i = 6;
    for (; i < nf && strcmp(fields[i], "-") != 0; i++) {
      int id;
      if (sscanf(fields[i], "shared:%d", &id) == 1) len += snprintf(o + len, 512 - len, " shared:#%d", id);
      else if (sscanf(fields[i], "master:%d", &id) == 1) len += snprintf(o + len, 512 - len, " master:#%d", id);
      else len += snprintf(o + len, 512 - len, " %s", fields[i]);
    }
    if (i + 2 < nf) snprintf(o + len, 512 - len, " - %s %s", fields[i + 1], fields[i + 2]);
    sorted[nl] = o;
    nl++;
  }
  fclose(f);
  // Sort on the lines with the raw ids masked out.
  static char keys[256][512];
  char *order[256];
  for (int i = 0; i < nl; i++) {
    char *k = keys[i];
    const char *s = sorted[i];
    int j = 0;
    while (*s && j < 500) {
      if (*s == '#') {
        s++;
        while (*s >= '0' && *s <= '9') s++;
        k[j++] = '#';
      } else k[j++] = *s++;
    }
    k[j] = 0;
    // Keep the line after its key so one sort orders both.
    snprintf(k + j, 512 - j, "%c%d", 1, i);
    order[i] = k;
  }
  qsort(order, nl, sizeof *order, cmp);
  int groups[256], ngroups = 0;
  for (int i = 0; i < nl; i++) {
    const char *tag = strrchr(order[i], 1);
    const char *s = sorted[atoi(tag + 1)];
    while (*s) {
      if (*s == '#') {
        int id = atoi(++s);
        while (*s >= '0' && *s <= '9') s++;
        int g = 0;
        while (g < ngroups && groups[g] != id) g++;
        if (g == ngroups) groups[ngroups++] = id;
        printf("%d", g + 1);
      } else putchar(*s++);
    }
    putchar('\n');
  }
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  snprintf(base, sizeof base, "%s", argv[1]);
  setvbuf(stdout, NULL, _IOLBF, 0);
  mkdir(base, 0755);
  show("base tmpfs", mount("prop", base, "tmpfs", 0, NULL));

  // A shared mount bound twice: a mount under any of the three appears under the others.
  dir("s"), dir("p1"), dir("p2");
  tmpfs("src", "s");
  dir("s/x"), dir("s/y"), dir("s/sub"), dir("s/sub/k"), dir("s/other");
  make("shared", "s", MS_SHARED);
  bind("s", "p1", 0);
  bind("s", "p2", 0);
  bind("s/sub", "p1/sub", 0);
  tmpfs("t1", "p1/x");
  who("s/x"), who("p1/x"), who("p2/x");
  tmpfs("t2", "s/y");
  who("p1/y"), who("p2/y");
  // p1/sub shows only s/sub: what is mounted outside it does not reach it.
  tmpfs("t3", "s/other");
  tmpfs("t4", "p2/sub/k");
  who("p1/sub/k"), who("s/sub/k");
  show("p1/sub/other exists", access(p("p1/sub/other"), F_OK));
  mountinfo("shared peers");

  // Unmounts propagate: the same spot of every peer goes too, unless it is in use or has
  // mounts of its own.
  umnt("p2/x", 0);
  who("s/x"), who("p1/x"), who("p2/x");
  int fd = open(p("p1/y/id"), O_RDONLY);
  umnt("s/y", 0);
  close(fd);
  make("private", "p2/y", MS_PRIVATE);
  dir("p2/y/k");
  tmpfs("t5", "p2/y/k");
  umnt("s/y", 0);
  who("s/y"), who("p1/y"), who("p2/y");
  umnt("p2/y/k", 0);
  umnt("p2/y", 0);
  umnt("p1/sub/k", 0);
  who("s/sub/k"), who("p2/sub/k");
  umnt("s/other", 0);
  mountinfo("after umounts");

  // A slave receives from its master and sends nothing back; a shared slave passes on.
  dir("m"), dir("sl"), dir("sl2"), dir("pr");
  tmpfs("master", "m");
  dir("m/a"), dir("m/b"), dir("m/c"), dir("m/d"), dir("m/e"), dir("m/t");
  make("shared", "m", MS_SHARED);
  bind("m", "sl", 0);
  bind("m", "pr", 0);
  make("slave", "sl", MS_SLAVE);
  make("private", "pr", MS_PRIVATE);
  tmpfs("ma", "m/a");
  tmpfs("sb", "sl/b");
  tmpfs("mc", "m/c");
  tmpfs("prd", "pr/d");
  who("sl/a"), who("m/b"), who("pr/c"), who("m/d"), who("sl/c");
  make("shared", "sl", MS_SHARED);
  bind("sl", "sl2", 0);
  tmpfs("me", "m/e");
  who("sl/e"), who("sl2/e"), who("pr/e");
  mountinfo("slaves");
  umnt("m/a", 0);
  who("sl/a");
  // What is already mounted on a receiving spot stays on top of the copy.
  tmpfs("slt", "sl/t");
  tmpfs("mt", "m/t");
  who("m/t"), who("sl/t"), who("sl2/t");
  mountinfo("tucked");
  umnt("sl/t", 0);
  who("sl/t");
  make("slave", "m", MS_SLAVE);
  tmpfs("m-after", "m/d");
  who("sl/d");
  mountinfo("master made slave");

  // Unbindable mounts cannot be bound, and recursive binds leave them out.
  dir("u"), dir("v"), dir("w");
  tmpfs("unb", "u");
  dir("u/in");
  tmpfs("inner", "u/in");
  make("unbindable", "u/in", MS_UNBINDABLE);
  bind("u/in", "v", 0);
  bind("u", "v", MS_REC);
  who("v"), who("v/in");
  make("unbindable", "u", MS_UNBINDABLE);
  bind("u", "w", MS_REC);
  make("shared", "u", MS_SHARED);
  bind("u", "w", 0);
  mountinfo("unbindable");

  // MS_REC: a whole tree at once.
  dir("r"), dir("r2"), dir("r3");
  tmpfs("r", "r");
  dir("r/a"), dir("r/b");
  tmpfs("ra", "r/a");
  tmpfs("rb", "r/b");
  dir("r/a/n"), dir("r/b/q"), dir("r/b/w");
  make("shared", "r", MS_SHARED | MS_REC);
  bind("r", "r2", MS_REC);
  bind("r", "r3", 0);
  tmpfs("ran", "r/a/n");
  who("r2/a/n"), who("r3/a/n");
  make("slave", "r2", MS_SLAVE | MS_REC);
  tmpfs("r2bq", "r2/b/q");
  tmpfs("rbw", "r/b/w");
  who("r/b/q"), who("r2/b/w");
  mountinfo("rshared, rslave");
  make("private", "r2", MS_PRIVATE | MS_REC);
  umnt("r/b/w", 0);
  who("r2/b/w");
  make("unbindable", "r", MS_UNBINDABLE | MS_REC);
  bind("r/a", "v", 0);
  mountinfo("rprivate, runbindable");

  // Binding a shared mount under a shared mount: all copies are peers of the source.
  dir("q"), dir("qs"), dir("q2");
  tmpfs("q", "q");
  dir("q/z");
  make("shared", "q", MS_SHARED);
  bind("q", "q2", 0);
  tmpfs("qs", "qs");
  make("shared", "qs", MS_SHARED);
  bind("qs", "q/z", 0);
  who("q2/z");
  dir("qs/deep");
  tmpfs("deep", "qs/deep");
  who("q/z/deep"), who("q2/z/deep");
  // A file bound under a shared mount appears at its peers too.
  close(open(p("q/f"), O_CREAT | O_WRONLY, 0644));
  close(open(p("qs/id2"), O_CREAT | O_WRONLY, 0644));
  show("bind file q/f", mount(p("qs/id"), p("q/f"), NULL, MS_BIND, NULL));
  char buf[16] = {0};
  fd = open(p("q2/f"), O_RDONLY);
  printf("q2/f: %zd '%s'\n", fd < 0 ? -1 : read(fd, buf, sizeof buf - 1), buf);
  if (fd >= 0) close(fd);
  mountinfo("shared under shared");
  umnt("q2/f", 0);
  show("access q/f", access(p("q/f"), F_OK));
  fd = open(p("q/f"), O_RDONLY);
  memset(buf, 0, sizeof buf);
  printf("q/f: %zd '%s'\n", fd < 0 ? -1 : read(fd, buf, sizeof buf - 1), buf);
  if (fd >= 0) close(fd);
  umnt("q", MNT_DETACH);
  who("q2/z/deep");
  mountinfo("lazy umount of a peer");
  // Moves into a shared mount propagate; out of one they are refused. Stacking on a shared
  // mount's root stacks on its peers; a bind of a slave is a slave of the same master; a shared
  // mount bound into itself does not loop; a file bound in a master reaches its slaves.
  dir("g"), dir("gp"), dir("mv"), dir("gs");
  tmpfs("g", "g");
  dir("g/in"), dir("g/self"), dir("g/sub");
  close(open(p("g/f"), O_CREAT | O_WRONLY, 0644));
  make("shared", "g", MS_SHARED);
  bind("g", "gp", 0);
  tmpfs("moved", "mv");
  dir("mv/deep");
  tmpfs("deep2", "mv/deep");
  show("move mv to g/in", mount(p("mv"), p("g/in"), NULL, MS_MOVE, NULL));
  who("gp/in"), who("gp/in/deep");
  show("move g/in out", mount(p("g/in"), p("mv"), NULL, MS_MOVE, NULL));
  tmpfs("stack", "g");
  who("g"), who("gp");
  umnt("gp", 0);
  who("g"), who("gp");
  bind("g", "g/self", 0);
  who("gp/self");
  show("gp/self/self exists", access(p("gp/self/self/id"), F_OK));
  bind("g", "gs", 0);
  make("slave", "gs", MS_SLAVE);
  dir("gs2");
  bind("gs", "gs2", 0);
  show("bind file into g", mount(p("g/id"), p("g/f"), NULL, MS_BIND, NULL));
  tmpfs("gsub", "gp/sub");
  who("gs/sub"), who("gs2/sub");
  fd = open(p("gs2/f"), O_RDONLY);
  memset(buf, 0, sizeof buf);
  printf("gs2/f: %zd '%s'\n", fd < 0 ? -1 : read(fd, buf, sizeof buf - 1), buf);
  if (fd >= 0) close(fd);
  show("unlink g/f", unlink(p("g/f")));
  show("unlink gs2/f", unlink(p("gs2/f")));
  mountinfo("moves, stacks, self-binds");
  umnt("g/f", 0);
  show("unlink gs2/f after umount", unlink(p("gs2/f")));
  umnt("g/sub", 0);
  who("gs2/sub");
  // Unmounting in the master takes the copy under a slave's own mount: that one takes its place.
  dir("tm"), dir("ts");
  tmpfs("tm", "tm");
  dir("tm/t");
  make("shared", "tm", MS_SHARED);
  bind("tm", "ts", 0);
  make("slave", "ts", MS_SLAVE);
  tmpfs("own", "ts/t");
  tmpfs("from-master", "tm/t");
  who("ts/t");
  umnt("tm/t", 0);
  who("ts/t");
  umnt("ts/t", 0);
  who("ts/t");
  // A recursive bind of a tree into a shared mount: every peer gets the whole tree.
  dir("g/tree");
  bind("r2", "g/tree", MS_REC);
  who("gp/tree"), who("gp/tree/b/q"), who("gs/tree/a/n");
  umnt("gp/tree", MNT_DETACH);
  who("g/tree"), who("gs2/tree");
  mountinfo("topper, rbind into shared");
  show("umount base", umount2(base, MNT_DETACH));
  return 0;
}
