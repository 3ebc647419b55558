// The host vDSO inside tsvisor. Modes:
//   check  - AT_SYSINFO_EHDR points at the [vdso] line of /proc/self/maps; every vDSO clock is
//            monotonic over a loop and agrees with the others; prints "now <realtime ns>
//            <monotonic ns>" for the test to compare with the host.
//   loop N - N calls of clock_gettime(CLOCK_MONOTONIC); prints "ns/call <x>".
//   fork   - check in a fork child (and prints the child's AT_SYSINFO_EHDR).
//   exec   - execs itself with "check".
//   seal   - tries munmap and mprotect on the vDSO (tsvisor seals it: EPERM).
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long ns(clockid_t c) {
  struct timespec ts;
  if (clock_gettime(c, &ts) != 0) {
    perror("clock_gettime");
    exit(2);
  }
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int fail(const char* what) {
  printf("FAIL %s\n", what);
  return 1;
}

static int check(void) {
  unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
  if (ehdr == 0) return fail("no AT_SYSINFO_EHDR");
  if (memcmp((const char*)ehdr, "\177ELF", 4) != 0) return fail("AT_SYSINFO_EHDR is not an ELF image");
  FILE* f = fopen("/proc/self/maps", "r");
  if (!f) return fail("open maps");
  char line[512];
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3) continue;
    if (lo == ehdr && strstr(line, " [vdso]\n") && strcmp(perms, "r-xp") == 0) found = 1;
  }
  fclose(f);
  if (!found) return fail("AT_SYSINFO_EHDR is not the start of an r-xp [vdso] line");
  static const clockid_t clocks[] = {CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_PROCESS_CPUTIME_ID};
  long long last[3] = {0, 0, 0};
  long long lastReal = 0;
  for (int i = 0; i < 20000; i++) {
    for (int c = 0; c < 3; c++) {
      long long t = ns(clocks[c]);
      if (t < last[c]) return fail("a clock went backwards");
      last[c] = t;
    }
    long long real = ns(CLOCK_REALTIME);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    long long tod = tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
    time_t secs = time(NULL);
    long long after = ns(CLOCK_REALTIME);
    // gettimeofday and time fall between two CLOCK_REALTIME reads (to their precision).
    if (tod < real - 1000 || tod > after) return fail("gettimeofday disagrees with CLOCK_REALTIME");
    // time() reads the coarse clock, which lags by up to a tick (Linux too).
    if (secs < (real - 20000000LL) / 1000000000LL || secs > after / 1000000000LL) return fail("time disagrees with CLOCK_REALTIME");
    if (real < lastReal - 1000000) return fail("CLOCK_REALTIME went back");
    lastReal = real;
  }
  if (last[1] < last[0]) return fail("CLOCK_BOOTTIME is behind CLOCK_MONOTONIC");
  printf("now %lld %lld\n", ns(CLOCK_REALTIME), ns(CLOCK_MONOTONIC));
  printf("ehdr %lx\n", ehdr);
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* mode = argc > 1 ? argv[1] : "check";
  if (strcmp(mode, "check") == 0) return check();
  if (strcmp(mode, "loop") == 0) {
    long n = argc > 2 ? atol(argv[2]) : 10000;
    long long start = ns(CLOCK_MONOTONIC);
    volatile long long sink = 0;
    for (long i = 0; i < n; i++) sink += ns(CLOCK_MONOTONIC);
    long long end = ns(CLOCK_MONOTONIC);
    printf("ns/call %.1f\n", (double)(end - start) / (double)n);
    return 0;
  }
  if (strcmp(mode, "fork") == 0) {
    printf("parent ehdr %lx\n", getauxval(AT_SYSINFO_EHDR));
    pid_t pid = fork();
    if (pid < 0) return fail("fork");
    if (pid == 0) _exit(check());
    int st;
    if (waitpid(pid, &st, 0) != pid) return fail("waitpid");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
  }
  if (strcmp(mode, "exec") == 0) {
    char* args[] = {argv[0], "check", NULL};
    execv(argv[0], args);
    return fail("execv");
  }
  if (strcmp(mode, "seal") == 0) {
    void* vdso = (void*)getauxval(AT_SYSINFO_EHDR);
    if (!vdso) return fail("no AT_SYSINFO_EHDR");
    int r = munmap(vdso, 4096);
    printf("munmap %s\n", r == 0 ? "ok" : errno == EPERM ? "EPERM" : strerror(errno));
    r = mprotect(vdso, 4096, PROT_READ);
    printf("mprotect %s\n", r == 0 ? "ok" : errno == EPERM ? "EPERM" : strerror(errno));
    return 0;
  }
  return fail("unknown mode");
}
