/*
 * Differential-test helper for @tsvisor/mm: reserves a region with a PROT_NONE mapping at a fixed
 * address, then runs memory-management syscalls read from stdin, one per line, and answers each
 * with its result (or -errno) and the /proc/self/maps lines that intersect the region.
 *
 * usage: mm-helper BASE SIZE FILE
 *   commands (numbers in hex):  mmap addr len prot flags fileidx off   (fileidx -1: anonymous,
 *   0: FILE opened O_RDWR, 1: FILE opened O_RDONLY), munmap addr len, mprotect addr len prot,
 *   mremap addr oldlen newlen flags newaddr, madvise addr len advice, msync addr len flags,
 *   mlock2 addr len flags, munlock addr len, mincore addr len, mseal addr len, touch addr (read a byte;
 *   -EFAULT if it faults), nop (just the maps), brkinit addr (prctl PR_SET_MM start_brk = brk =
 *   addr), brk addr, fork (answers with the child's maps lines)
 *   answers: "R <hex result or -errno>", then "M <maps line>"..., then "E".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/prctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_mseal
#define SYS_mseal 462
#endif

static unsigned long base, size;

/* Reads maps without malloc, so that brk stays the test's own (glibc's malloc moves it). */
static char maps[1 << 20];
static void dump_maps(void) {
  int fd = open("/proc/self/maps", O_RDONLY);
  size_t n = 0;
  ssize_t r;
  while ((r = read(fd, maps + n, sizeof maps - 1 - n)) > 0) n += r;
  close(fd);
  maps[n] = 0;
  for (char *line = maps; *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    unsigned long s, e;
    if (sscanf(line, "%lx-%lx", &s, &e) == 2 && e > base && s < base + size) printf("M %s\n", line);
    if (!nl) break;
    line = nl + 1;
  }
}

/* Moves start_brk and brk to `at` with PR_SET_MM_MAP (no privilege needed), keeping the rest. */
static long set_brk(unsigned long at) {
  static char st[4096];
  int fd = open("/proc/self/stat", O_RDONLY);
  ssize_t n = read(fd, st, sizeof st - 1);
  close(fd);
  if (n <= 0) return -1;
  st[n] = 0;
  /* Fields after the command: field 3 is the state; we need 26-28 and 45-51 (1-based). */
  char *p = strrchr(st, ')') + 4; /* past ") S " */
  unsigned long f[53] = {0};
  for (int i = 4; i <= 52 && *p; i++) {
    f[i] = strtoul(p, &p, 10);
    if (*p == ' ') p++;
  }
  struct prctl_mm_map m = {
      .start_code = f[26], .end_code = f[27], .start_stack = f[28],
      .start_data = f[45], .end_data = f[46], .start_brk = at, .brk = at,
      .arg_start = f[48], .arg_end = f[49], .env_start = f[50], .env_end = f[51],
      .auxv = 0, .auxv_size = 0, .exe_fd = (unsigned)-1,
  };
  return prctl(PR_SET_MM, PR_SET_MM_MAP, &m, sizeof m, 0);
}

static sigjmp_buf fault_jump;
static void on_fault(int sig) {
  (void)sig;
  siglongjmp(fault_jump, 1);
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  base = strtoul(argv[1], 0, 16);
  size = strtoul(argv[2], 0, 16);
  int fds[2];
  fds[0] = open(argv[3], O_RDWR);
  fds[1] = open(argv[3], O_RDONLY);
  if (fds[0] < 0 || fds[1] < 0) return 3;
  static char outbuf[1 << 16];
  setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
  if (!strcmp(argv[1], "auto")) {
    /*
     * Placement mode: put the region where the kernel's next top-down mmap would go, between two
     * PROT_NONE pages of FILE (which never merge with anything), and fill the smaller holes
     * above it, so that mmap without MAP_FIXED chooses addresses inside the region. Addresses
     * in commands may then be written @OFFSET (relative to the region); prints "B <base>".
     */
    unsigned long span = size + 2 * 4096;
    char *probe = mmap(0, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (probe == MAP_FAILED) return 5;
    munmap(probe, span);
    for (;;) {
      char *q = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (q == MAP_FAILED) return 5;
      if (q < probe + span) {
        munmap(q, 4096);
        break;
      }
    }
    base = (unsigned long)probe + 4096;
    if (mmap(probe, 4096, PROT_NONE, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fds[1], 0) != probe) return 6;
    if (mmap(probe + 4096 + size, 4096, PROT_NONE, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fds[1], 0) != probe + 4096 + size)
      return 6;
    printf("B %lx\n", base);
  }
  void *r = mmap((void *)base, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (r != (void *)base) return 4;
  char cmd[32];
  unsigned long a[6];
  char line[512];
  while (fgets(line, sizeof line, stdin)) {
    /* Expand @OFFSET tokens to base + OFFSET. */
    char expanded[512];
    size_t o = 0;
    for (char *c = line; *c && o < sizeof expanded - 20; c++) {
      if (*c == '@') {
        unsigned long off = strtoul(c + 1, &c, 16);
        o += snprintf(expanded + o, sizeof expanded - o, "%lx", base + off);
        c--;
      } else {
        expanded[o++] = *c;
      }
    }
    expanded[o] = 0;
    strcpy(line, expanded);
    memset(a, 0, sizeof a);
    long fi = -1;
    if (sscanf(line, "%31s", cmd) != 1) continue;
    long res;
    if (!strcmp(cmd, "mmap")) {
      sscanf(line, "%*s %lx %lx %lx %lx %ld %lx", &a[0], &a[1], &a[2], &a[3], &fi, &a[5]);
      res = syscall(SYS_mmap, a[0], a[1], a[2], a[3], fi < 0 ? -1 : fds[fi], a[5]);
    } else if (!strcmp(cmd, "munmap")) {
      sscanf(line, "%*s %lx %lx", &a[0], &a[1]);
      res = syscall(SYS_munmap, a[0], a[1]);
    } else if (!strcmp(cmd, "mprotect")) {
      sscanf(line, "%*s %lx %lx %lx", &a[0], &a[1], &a[2]);
      res = syscall(SYS_mprotect, a[0], a[1], a[2]);
    } else if (!strcmp(cmd, "mremap")) {
      sscanf(line, "%*s %lx %lx %lx %lx %lx", &a[0], &a[1], &a[2], &a[3], &a[4]);
      res = syscall(SYS_mremap, a[0], a[1], a[2], a[3], a[4]);
    } else if (!strcmp(cmd, "madvise")) {
      sscanf(line, "%*s %lx %lx %lx", &a[0], &a[1], &a[2]);
      res = syscall(SYS_madvise, a[0], a[1], a[2]);
    } else if (!strcmp(cmd, "msync")) {
      sscanf(line, "%*s %lx %lx %lx", &a[0], &a[1], &a[2]);
      res = syscall(SYS_msync, a[0], a[1], a[2]);
    } else if (!strcmp(cmd, "mlock2")) {
      sscanf(line, "%*s %lx %lx %lx", &a[0], &a[1], &a[2]);
      res = syscall(SYS_mlock2, a[0], a[1], a[2]);
    } else if (!strcmp(cmd, "brkinit")) {
      sscanf(line, "%*s %lx", &a[0]);
      res = set_brk(a[0]);
    } else if (!strcmp(cmd, "brk")) {
      sscanf(line, "%*s %lx", &a[0]);
      res = syscall(SYS_brk, a[0]);
    } else if (!strcmp(cmd, "touch")) {
      /* Reads a byte: a fault below a MAP_GROWSDOWN mapping grows it (or fails: -EFAULT). */
      sscanf(line, "%*s %lx", &a[0]);
      struct sigaction sa = {0};
      sa.sa_handler = on_fault;
      sigaction(SIGSEGV, &sa, 0);
      sigaction(SIGBUS, &sa, 0);
      if (sigsetjmp(fault_jump, 1) == 0) {
        (void)*(volatile char *)a[0];
        res = 0;
      } else {
        res = -1;
        errno = EFAULT;
      }
    } else if (!strcmp(cmd, "nop")) {
      res = 0;
    } else if (!strcmp(cmd, "mincore")) {
      static unsigned char vec[1 << 16];
      sscanf(line, "%*s %lx %lx", &a[0], &a[1]);
      res = syscall(SYS_mincore, a[0], a[1], vec);
    } else if (!strcmp(cmd, "fork")) {
      /* Answers with the child's maps lines: what fork gave it. */
      printf("R 0\n");
      fflush(stdout);
      pid_t pid = fork();
      if (pid == 0) {
        dump_maps();
        fflush(stdout);
        _exit(0);
      }
      waitpid(pid, 0, 0);
      printf("E\n");
      fflush(stdout);
      continue;
    } else if (!strcmp(cmd, "mseal")) {
      sscanf(line, "%*s %lx %lx", &a[0], &a[1]);
      res = syscall(SYS_mseal, a[0], a[1], 0);
    } else if (!strcmp(cmd, "munlock")) {
      sscanf(line, "%*s %lx %lx", &a[0], &a[1]);
      res = syscall(SYS_munlock, a[0], a[1]);
    } else {
      printf("R ?\nE\n");
      fflush(stdout);
      continue;
    }
    if (res == -1) printf("R -%d\n", errno);
    else printf("R %lx\n", (unsigned long)res);
    dump_maps();
    printf("E\n");
    fflush(stdout);
  }
  return 0;
}
