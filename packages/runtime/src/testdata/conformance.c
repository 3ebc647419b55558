/*
 * Bad arguments, answered natively and under tsvisor: each line is a call, its result and
 * errno name. The two runs must print the same. Every call here must leave the process alive.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r) {
  printf("%-40s %ld %s\n", what, r, r < 0 ? strerrorname_np(errno) : "-");
  fflush(stdout);
}

#define CALL(what, expr) show(what, (long)(expr))
#define BAD ((void *)8)

int main(void) {
  int p[2];
  char buf[16];
  struct timespec ts;
  CALL("syscall(1000)", syscall(1000));
  CALL("syscall(100000)", syscall(100000));
  CALL("write(1, NULL, 5)", write(1, NULL, 5));
  CALL("write(99, buf, 1)", write(99, buf, 1));
  CALL("write(-1, buf, 1)", write(-1, buf, 1));
  CALL("pipe2(p, 0)", pipe2(p, 0));
  CALL("write(p[1], \"abc\", 3)", write(p[1], "abc", 3));
  CALL("read(p[0], buf, 3)", read(p[0], buf, 3));
  CALL("write(p[1], \"abc\", 3)", write(p[1], "abc", 3));
  CALL("read(p[0], BAD, 3)", read(p[0], BAD, 3));
  CALL("close(p[1])", close(p[1]));
  CALL("lseek(p[0], 0, SEEK_SET)", lseek(p[0], 0, SEEK_SET));
  CALL("close(p[0])", close(p[0]));
  CALL("close(p[0]) again", close(p[0]));
  CALL("close(-1)", close(-1));
  CALL("dup2(99, 100)", dup2(99, 100));
  CALL("dup3(1, 1, 0)", dup3(1, 1, 0));
  CALL("fcntl(1, 9999)", fcntl(1, 9999));
  CALL("open(NULL, O_RDONLY)", open(NULL, O_RDONLY));
  CALL("open(BAD, O_RDONLY)", open(BAD, O_RDONLY));
  CALL("open(\"\", O_RDONLY)", open("", O_RDONLY));
  CALL("open(\"/nonexistent\", O_RDONLY)", open("/nonexistent", O_RDONLY));
  CALL("open(\"/tmp/x\", O_CREAT|O_DIRECTORY)", open("/tmp/x", O_CREAT | O_DIRECTORY, 0600));
  CALL("uname(NULL)", uname(NULL));
  CALL("uname(BAD)", uname(BAD));
  CALL("clock_gettime(999, &ts)", clock_gettime(999, &ts));
  CALL("clock_gettime(REALTIME, BAD)", syscall(SYS_clock_gettime, CLOCK_REALTIME, BAD));
  ts.tv_sec = 0;
  ts.tv_nsec = 2000000000;
  CALL("nanosleep(nsec=2e9)", nanosleep(&ts, NULL));
  CALL("nanosleep(BAD)", syscall(SYS_nanosleep, BAD, NULL));
  CALL("kill(getpid(), 999)", kill(getpid(), 999));
  CALL("kill(99999, 0)", kill(99999, 0));
  CALL("rt_sigprocmask(how=99)", syscall(SYS_rt_sigprocmask, 99, NULL, NULL, 8));
  CALL("rt_sigprocmask(size=4)", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, NULL, 4));
  CALL("mmap(len=0)", (long)mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  CALL("mmap(no type)", (long)mmap(NULL, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0));
  CALL("mmap(fd=99)", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 99, 0));
  CALL("munmap(1, 4096)", munmap((void *)1, 4096));
  CALL("mprotect(unaligned)", mprotect((void *)4097, 4096, PROT_READ));
  struct iovec iov = {buf, 1};
  CALL("readv(0, &iov, -1)", readv(0, &iov, -1));
  CALL("writev(1, &iov, 2000)", writev(1, &iov, 2000));
  CALL("writev(1, BAD, 1)", writev(1, BAD, 1));
  CALL("getcwd(buf, 1)", (long)syscall(SYS_getcwd, buf, 1));
  CALL("getcwd(BAD, 16)", (long)syscall(SYS_getcwd, BAD, 16));
  CALL("chdir(\"/nonexistent\")", chdir("/nonexistent"));
  CALL("getrandom(BAD, 8, 0)", syscall(SYS_getrandom, BAD, 8, 0));
  CALL("getrandom(buf, 8, 999)", syscall(SYS_getrandom, buf, 8, 999));
  CALL("wait4(-1, NULL, 0, NULL)", syscall(SYS_wait4, -1, NULL, 0, NULL));
  CALL("arch_prctl(999)", syscall(SYS_arch_prctl, 999, 0));
  CALL("prlimit64(RLIMIT=99)", syscall(SYS_prlimit64, 0, 99, NULL, buf));
  printf("alive\n");
  return 0;
}
