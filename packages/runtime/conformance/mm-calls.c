/*
 * Conformance program for the memory syscalls (issue 6): mmap (anonymous, and shared and
 * private mappings of a file in /tmp), munmap, mprotect, mremap, madvise, mincore, msync, mlock,
 * brk, MAP_GROWSDOWN and MAP_FIXED_NOREPLACE, each followed by
 * what the process sees: results and errnos, page contents, its own /proc/self/maps lines and
 * the VmLck line of /proc/self/status. Everything happens inside a region this program reserves
 * itself, and addresses are printed relative to it, so a native run and a sandboxed run print
 * the same text. Ends with "done", exit status 0.
 *
 *   gcc -O1 -static -o mm-calls mm-calls.c && ./mm-calls
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PG 4096UL
#define PAGES 64UL

static char *base;

static const char *ename(int e) {
  switch (e) {
  case EINVAL: return "EINVAL";
  case ENOMEM: return "ENOMEM";
  case EEXIST: return "EEXIST";
  case EFAULT: return "EFAULT";
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case EAGAIN: return "EAGAIN";
  case EBADF: return "EBADF";
  case EBUSY: return "EBUSY";
  default: return "E?";
  }
}

/* An address result: its page offset in the region, "outside", or the errno. */
static void show_addr(const char *what, void *p) {
  if (p == MAP_FAILED) printf("%s = -1 %s\n", what, ename(errno));
  else if ((char *)p >= base && (char *)p < base + PAGES * PG)
    printf("%s = region+%lu\n", what, (unsigned long)((char *)p - base) / PG);
  else printf("%s = outside the region\n", what);
}

static void show(const char *what, long r) {
  if (r == -1) printf("%s = -1 %s\n", what, ename(errno));
  else printf("%s = %ld\n", what, r);
}

/* The maps lines of the region: page offsets, permissions and the name column. */
static void maps(const char *when) {
  static char buf[1 << 16];
  int fd = open("/proc/self/maps", O_RDONLY);
  size_t n = 0;
  ssize_t r;
  while (fd >= 0 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += r;
  if (fd >= 0) close(fd);
  buf[n] = 0;
  printf("maps %s:", when);
  for (char *line = buf; *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    unsigned long s, e;
    char perms[8];
    int name_at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &s, &e, perms, &name_at) >= 3 && e > (unsigned long)base &&
        s < (unsigned long)base + PAGES * PG) {
      long from = ((long)s - (long)base) / (long)PG, to = ((long)e - (long)base) / (long)PG;
      const char *name = name_at ? line + name_at : "";
      /* Files by their last component: the temp directory's name differs between runs. */
      const char *slash = name[0] == '/' ? strrchr(name, '/') : NULL;
      if (slash) name = slash + 1;
      printf(" [%ld,%ld)%s%s%s", from, to, perms, *name ? " " : "", name);
    }
    if (!nl) break;
    line = nl + 1;
  }
  printf("\n");
}

static void status_line(const char *key) {
  static char buf[1 << 14];
  int fd = open("/proc/self/status", O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) close(fd);
  if (n < 0) n = 0;
  buf[n] = 0;
  char *p = strstr(buf, key);
  if (!p) {
    printf("%s missing\n", key);
    return;
  }
  char *nl = strchr(p, '\n');
  if (nl) *nl = 0;
  /* Tabs and padding as /proc prints them; collapse to one space. */
  printf("status ");
  for (int sp = 0; *p; p++) {
    if (*p == ' ' || *p == '\t') sp = 1;
    else {
      if (sp) putchar(' ');
      sp = 0;
      putchar(*p);
    }
  }
  putchar('\n');
}

static sigjmp_buf jump;
static void on_fault(int sig) { siglongjmp(jump, sig); }

/* Reads a byte: its value, or the signal the read raised. */
static void probe(const char *what, volatile char *p) {
  int sig = sigsetjmp(jump, 1);
  if (sig == 0) printf("%s = %d\n", what, *p);
  else printf("%s = %s\n", what, sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : "signal");
}
/* Writes a byte: "ok", or the signal the write raised. */
static void poke(const char *what, volatile char *p, char v) {
  int sig = sigsetjmp(jump, 1);
  if (sig == 0) {
    *p = v;
    printf("%s = ok\n", what);
  } else printf("%s = %s\n", what, sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : "signal");
}

static char *at(unsigned long page) { return base + page * PG; }

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa = {0};
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGBUS, &sa, 0);
  const int anon = MAP_PRIVATE | MAP_ANONYMOUS;

  /* The region: PROT_NONE, so nothing else lands in it. */
  base = mmap(NULL, PAGES * PG, PROT_NONE, anon | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return 1;
  printf("reserve = ok\n");
  maps("after reserve");

  /* mmap MAP_FIXED over part of it, MAP_FIXED_NOREPLACE. */
  show_addr("mmap fixed rw [4,8)", mmap(at(4), 4 * PG, PROT_READ | PROT_WRITE, anon | MAP_FIXED, -1, 0));
  memset(at(4), 'a', 4 * PG);
  show_addr("mmap noreplace [6,7)", mmap(at(6), PG, PROT_READ, anon | MAP_FIXED_NOREPLACE, -1, 0));
  show_addr("mmap noreplace [10,11)", mmap(at(10), PG, PROT_READ, anon | MAP_FIXED_NOREPLACE, -1, 0));
  show_addr("mmap hint [12,13)", mmap(at(12), PG, PROT_READ, anon, -1, 0));
  show_addr("mmap len 0", mmap(NULL, 0, PROT_READ, anon, -1, 0));
  show_addr("mmap unaligned fixed", mmap(at(4) + 1, PG, PROT_READ, anon | MAP_FIXED, -1, 0));
  show_addr("mmap no type", mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0));
  show_addr("mmap bad fd", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 1000, 0));
  maps("after mmap");

  /* mprotect splits and merges back; writes to read-only pages fault. */
  show("mprotect [5,6) r", mprotect(at(5), PG, PROT_READ));
  maps("after split");
  poke("write [5]", at(5), 'x');
  probe("read [5]", at(5));
  show("mprotect [5,6) rw", mprotect(at(5), PG, PROT_READ | PROT_WRITE));
  maps("after merge");
  show("mprotect unaligned", mprotect(at(5) + 1, PG, PROT_READ));
  show("mprotect bad prot", mprotect(at(4), PG, 0x100));

  /* munmap makes a hole; reading it faults. */
  show("munmap [6,7)", munmap(at(6), PG));
  probe("read [6]", at(6));
  show("munmap unaligned", munmap(at(4) + 1, PG));
  show("munmap len 0", munmap(at(4), 0));
  show("munmap unmapped", munmap(at(50), PG));
  maps("after munmap");
  show("mprotect [5,8) r over the hole", mprotect(at(5), 3 * PG, PROT_READ));
  maps("after mprotect over a hole");
  show("mprotect [5,6) rw", mprotect(at(5), PG, PROT_READ | PROT_WRITE));

  /* mremap: grow in place into the hole, move, shrink. */
  show_addr("mremap grow in place [4,6)->[4,7)", mremap(at(4), 2 * PG, 3 * PG, 0));
  probe("read [6] after grow", at(6));
  show_addr("mremap no room, no MAYMOVE", mremap(at(4), 3 * PG, 6 * PG, 0));
  show_addr("mremap move to [30,33)", mremap(at(4), 3 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, at(30)));
  probe("read [30] after move", at(30));
  probe("read [4] after move", at(4));
  show_addr("mremap shrink [30,33)->[30,31)", mremap(at(30), 3 * PG, PG, 0));
  show_addr("mremap bad flags", mremap(at(30), PG, PG, 0x80));
  show_addr("mremap unmapped", mremap(at(50), PG, 2 * PG, MREMAP_MAYMOVE));
  maps("after mremap");

  /* madvise: DONTNEED zeroes private anonymous pages; DONTDUMP splits. */
  show("madvise dontneed [7,8)", madvise(at(7), PG, MADV_DONTNEED));
  probe("read [7] after dontneed", at(7));
  show("madvise dontdump [30,31)", madvise(at(30), PG, MADV_DONTDUMP));
  show("madvise hole", madvise(at(50), PG, MADV_WILLNEED));
  show("madvise bad advice", madvise(at(7), PG, 12345));
  show("madvise unaligned", madvise(at(7) + 1, PG, MADV_NORMAL));
  maps("after madvise");

  /* mincore: residency of touched and dropped pages; holes and bad addresses. */
  {
    unsigned char vec[4] = {9, 9, 9, 9};
    show_addr("mmap fixed rw [20,24)", mmap(at(20), 4 * PG, PROT_READ | PROT_WRITE, anon | MAP_FIXED, -1, 0));
    at(20)[0] = 1;
    at(22)[0] = 1;
    show("mincore [20,24)", mincore(at(20), 4 * PG, vec));
    printf("mincore vec = %d %d %d %d\n", vec[0] & 1, vec[1] & 1, vec[2] & 1, vec[3] & 1);
    show("madvise dontneed [20,21)", madvise(at(20), PG, MADV_DONTNEED));
    show("mincore [20,24) again", mincore(at(20), 4 * PG, vec));
    printf("mincore vec = %d %d %d %d\n", vec[0] & 1, vec[1] & 1, vec[2] & 1, vec[3] & 1);
    show("mincore hole", mincore(at(50), PG, vec));
    show("mincore unaligned", mincore(at(20) + 1, PG, vec));
    show("mincore bad vec", mincore(at(20), PG, (unsigned char *)8));
  }

  /* msync. */
  show("msync sync", msync(at(20), 4 * PG, MS_SYNC));
  show("msync async", msync(at(20), PG, MS_ASYNC));
  show("msync hole", msync(at(50), PG, MS_SYNC));
  show("msync both", msync(at(20), PG, MS_SYNC | MS_ASYNC));
  show("msync unaligned", msync(at(20) + 1, PG, MS_SYNC));

  /* mlock: VmLck follows; the maps lines do not change. */
  status_line("VmLck:");
  show("mlock [20,22)", mlock(at(20), 2 * PG));
  status_line("VmLck:");
  show("mlock hole", mlock(at(50), PG));
  show("munlock [20,22)", munlock(at(20), 2 * PG));
  status_line("VmLck:");
  show("mlock2 bad flags", syscall(SYS_mlock2, at(20), PG, 8));
  maps("after mlock");

  /* MAP_GROWSDOWN: a fault just below the mapping grows it; far below it does not. */
  show_addr("mmap growsdown [44,46)", mmap(at(44), 2 * PG, PROT_READ | PROT_WRITE, anon | MAP_FIXED | MAP_GROWSDOWN, -1, 0));
  show("munmap [40,44)", munmap(at(40), 4 * PG));
  maps("before growth");
  probe("read [43]", at(43) + 100);
  maps("after growth");
  show("mprotect growsdown", mprotect(at(44), PG, PROT_READ | PROT_GROWSDOWN));
  maps("after mprotect growsdown");

  /* brk: grows and shrinks by pages; below the start is refused. */
  {
    char *b0 = (char *)syscall(SYS_brk, 0);
    char *b1 = (char *)syscall(SYS_brk, b0 + 3 * PG + 100);
    printf("brk grow = %+ld\n", (long)(b1 - b0));
    memset(b0, 'b', 3 * PG + 100);
    char *b2 = (char *)syscall(SYS_brk, b0 + PG);
    printf("brk shrink = %+ld\n", (long)(b2 - b0));
    char *b3 = (char *)syscall(SYS_brk, 4096);
    printf("brk below start = %+ld\n", (long)(b3 - b0));
    probe("read old brk end", b0 + 2 * PG);
  }

  /* A file in /tmp: MAP_SHARED writes reach the file (msync), MAP_PRIVATE ones do not. */
  {
    char dir[] = "/tmp/mm-calls.XXXXXX";
    char path[64];
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/data", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    static char page[3 * 4096];
    memset(page, 'f', sizeof page);
    if (fd < 0 || write(fd, page, sizeof page) != (ssize_t)sizeof page) return 1;
    show_addr("mmap file shared [56,59)", mmap(at(56), 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0));
    show_addr("mmap file private [60,62) at offset 1", mmap(at(60), 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, PG));
    show_addr("mmap file offset unaligned", mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 1));
    int ro = open(path, O_RDONLY);
    show_addr("mmap read-only fd shared writable", mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
    show_addr("mmap read-only fd private writable [62,63)", mmap(at(62), PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, ro, 0));
    close(ro);
    maps("after file mmap");
    at(56)[1] = 's';
    at(60)[2] = 'p';
    show("msync shared", msync(at(56), 3 * PG, MS_SYNC));
    char got[4] = {0};
    show("pread 0", pread(fd, got, 3, 0));
    printf("file bytes 0-2 = %.3s\n", got);
    show("pread page 1", pread(fd, got, 3, PG));
    printf("file bytes 4096-4098 = %.3s\n", got);
    show("pwrite page 2", pwrite(fd, "WW", 2, 2 * PG));
    printf("shared map sees the write = %c%c\n", at(58)[0], at(58)[1]);
    probe("private map page 0 byte 2", at(60) + 2);
    show("munmap file maps", munmap(at(56), 7 * PG));
    close(fd);
    unlink(path);
    rmdir(dir);
  }

  show("munmap region", munmap(base, PAGES * PG));
  maps("at the end");
  printf("done\n");
  return 0;
}
