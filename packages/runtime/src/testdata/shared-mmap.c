// Shared file mappings against Linux: MAP_SHARED of a file in each directory given as an argument
// (under tsvisor: /tmp is tmpfs, /var/tmp the overlay's memory layer), written through the
// mapping and read with read(2) and the other way round, across fork, after mremap and msync;
// then a memfd with seals. Run natively and under tsvisor: the output must be the same.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *what, long r) {
  if (r < 0)
    printf("%s = -1 %s\n", what, strerrorname_np(errno));
  else
    printf("%s = %ld\n", what, r);
}

static char at(int fd, off_t off) {
  char c = '?';
  if (pread(fd, &c, 1, off) != 1) return '!';
  return c;
}

static void shared_file(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/tsvisor-shared-mmap", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    perror(path);
    exit(1);
  }
  char buf[8192];
  memset(buf, 'a', sizeof buf);
  write(fd, buf, sizeof buf);
  char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  printf("mmap shared: %s\n", p == MAP_FAILED ? strerrorname_np(errno) : "ok");
  if (p == MAP_FAILED) exit(1);
  p[100] = 'X';
  printf("read(2) sees the mapping's write: %c\n", at(fd, 100));
  pwrite(fd, "Y", 1, 5000);
  printf("the mapping sees write(2): %c\n", p[5000]);
  char *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  printf("private mapping sees the file: %c\n", priv[100]);
  priv[101] = 'Z';
  printf("a private write stays private: %c %c\n", at(fd, 101), p[101]);

  int go[2];
  pipe(go);
  pid_t child = fork();
  if (child == 0) {
    p[300] = 'C';
    char c;
    read(go[0], &c, 1);
    // The parent wrote after the fork: a shared page shows it.
    _exit(p[400] == 'P' && at(fd, 400) == 'P' ? 0 : 1);
  }
  p[400] = 'P';
  write(go[1], "g", 1);
  int st;
  waitpid(child, &st, 0);
  printf("child saw the parent's write: %d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);
  printf("parent sees the child's write: %c %c\n", p[300], at(fd, 300));
  show("msync", msync(p, 8192, MS_SYNC));

  show("ftruncate to 16384", ftruncate(fd, 16384));
  char *q = mremap(p, 8192, 16384, MREMAP_MAYMOVE);
  printf("mremap: %s\n", q == MAP_FAILED ? strerrorname_np(errno) : "ok");
  if (q != MAP_FAILED) {
    printf("after mremap: %c %c %c\n", q[100], q[300], q[12000] == 0 ? '0' : q[12000]);
    q[12000] = 'R';
    printf("read(2) sees a write past the old end: %c\n", at(fd, 12000));
    munmap(q, 16384);
  }
  munmap(priv, 4096);
  close(fd);
  unlink(path);
}

static void memfd(void) {
  int fd = memfd_create("tsvisor-seals", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  show("memfd_create", fd >= 0 ? 0 : -1);
  char link[256] = {0}, self[64];
  snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
  readlink(self, link, sizeof link - 1);
  printf("fd link: %s\n", link);
  show("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
  show("ftruncate 4096", ftruncate(fd, 4096));
  char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  printf("mmap shared: %s\n", p == MAP_FAILED ? strerrorname_np(errno) : "ok");
  if (p == MAP_FAILED) exit(1);
  strcpy(p, "through the map");
  char buf[32] = {0};
  pread(fd, buf, 15, 0);
  printf("read(2): %s\n", buf);
  FILE *maps = fopen("/proc/self/maps", "r");
  char line[512];
  int named = 0;
  while (fgets(line, sizeof line, maps))
    if (strstr(line, "/memfd:tsvisor-seals (deleted)")) named = 1;
  fclose(maps);
  printf("named in maps: %d\n", named);
  pid_t child = fork();
  if (child == 0) {
    strcpy(p + 100, "from the child");
    _exit(0);
  }
  waitpid(child, NULL, 0);
  memset(buf, 0, sizeof buf);
  pread(fd, buf, 14, 100);
  printf("after fork: %s\n", buf);
  show("F_ADD_SEALS F_SEAL_WRITE while mapped writable", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  munmap(p, 4096);
  show("F_ADD_SEALS F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
  show("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
  show("write", write(fd, "x", 1));
  char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  printf("writable shared mmap after F_SEAL_WRITE: %s\n", w == MAP_FAILED ? strerrorname_np(errno) : "ok");
  char *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  printf("read-only shared mmap: %s\n", r == MAP_FAILED ? strerrorname_np(errno) : r + 100);
  show("mprotect PROT_WRITE of the read-only shared map", mprotect(r, 4096, PROT_READ | PROT_WRITE));
  maps = fopen("/proc/self/maps", "r");
  named = 0;
  while (fgets(line, sizeof line, maps))
    if (strstr(line, "/memfd:tsvisor-seals (deleted)")) named++;
  fclose(maps);
  printf("mappings of the sealed memfd: %d\n", named);
  show("ftruncate 8192", ftruncate(fd, 8192));
  show("F_ADD_SEALS SHRINK|GROW|SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
  show("ftruncate 4096", ftruncate(fd, 4096));
  show("ftruncate 9000", ftruncate(fd, 9000));
  show("F_ADD_SEALS F_SEAL_EXEC", fcntl(fd, F_ADD_SEALS, 0x20 /* F_SEAL_EXEC */));
  show("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
  show("F_GET_SEALS on a pipe", fcntl(0, F_GET_SEALS));
  show("memfd_create(bad flags)", memfd_create("x", 0x100));
  int nx = memfd_create("noexec", 0x8 /* MFD_NOEXEC_SEAL */);
  struct stat st;
  fstat(nx, &st);
  printf("MFD_NOEXEC_SEAL: mode %o, seals %d\n", st.st_mode, fcntl(nx, F_GET_SEALS));
  show("fchmod 0777 under F_SEAL_EXEC", fchmod(nx, 0777));
  show("fchmod 0600 under F_SEAL_EXEC", fchmod(nx, 0600));
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int i = 1; i < argc; i++) {
    printf("-- directory %d\n", i);
    shared_file(argv[i]);
  }
  printf("-- memfd\n");
  memfd();
  return 0;
}
