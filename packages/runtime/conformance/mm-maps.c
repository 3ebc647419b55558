/*
 * Checks /proc/self/maps against the pages themselves (issue 6): for every line it reads the
 * first and last byte (they must be readable exactly when the line says r, w or x: x86 can read
 * any page it may access), writes a byte back where the line says w and tries to write where it
 * does not (that must fault), and reads the byte below every line that does not start where the
 * previous one ended (that must fault: nothing is mapped there). The kernel's own pages ([vvar],
 * [vvar_vclock], [vsyscall]) and the byte below [stack] (a fault there would grow the stack) are
 * left alone. Under tsvisor the maps text comes from the memory model, so this shows that the
 * model is what the host process really has. Prints one line per disagreement, then "ok" or
 * "<n> disagreements"; exit status 0 either way unless it cannot read maps.
 *
 *   gcc -O1 -static -o mm-maps mm-maps.c && ./mm-maps
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sigjmp_buf jump;
static void on_fault(int sig) { siglongjmp(jump, sig); }

/* 1 if reading *p works, 0 if it faults. */
static int can_read(volatile char *p) {
  if (sigsetjmp(jump, 1)) return 0;
  (void)*p;
  return 1;
}
/* 1 if writing the byte at p back works, 0 if it faults. */
static int can_write(volatile char *p) {
  if (sigsetjmp(jump, 1)) return 0;
  char c = *p;
  *p = c;
  return 1;
}

int main(void) {
  static char buf[1 << 17];
  struct sigaction sa = {0};
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGBUS, &sa, 0);
  int fd = open("/proc/self/maps", O_RDONLY);
  if (fd < 0) return 1;
  size_t n = 0;
  ssize_t r;
  while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += r;
  close(fd);
  buf[n] = 0;
  int bad = 0, lines = 0;
  unsigned long prev_end = 0;
  for (char *line = buf; *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    unsigned long s, e;
    char perms[8];
    int name_at = 0;
    if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &s, &e, perms, &name_at) < 3) {
      printf("unparsable: %s\n", line);
      bad++;
    } else {
      const char *name = name_at ? line + name_at : "";
      int kernel_page = !strncmp(name, "[vvar", 5) || !strcmp(name, "[vsyscall]");
      if (!kernel_page) {
        lines++;
        int readable = perms[0] == 'r' || perms[1] == 'w' || perms[2] == 'x';
        int writable = perms[1] == 'w';
        if (can_read((char *)s) != readable || can_read((char *)e - 1) != readable) {
          printf("%s: reading %s\n", line, readable ? "faults" : "works");
          bad++;
        }
        if (readable && can_write((char *)s) != writable) {
          printf("%s: writing %s\n", line, writable ? "faults" : "works");
          bad++;
        }
        if (s != prev_end && strcmp(name, "[stack]") && can_read((char *)s - 1)) {
          printf("%s: the byte below it is readable\n", line);
          bad++;
        }
      }
      prev_end = e;
    }
    if (!nl) break;
    line = nl + 1;
  }
  if (lines == 0) printf("no lines\n");
  if (bad) printf("%d disagreements\n", bad);
  else printf("ok\n");
  return 0;
}
