// The training run of the code cache (scripts/bundle.mjs runs it under the freshly built bundle):
// a little of what typical programs do, so that the bytecode of the kernel's common paths is in
// the cache. Not a benchmark and not a test: it only has to touch each path once or twice.
// Files, directories, processes (fork, exec, wait), threads and futexes, signals, memory maps,
// pipes and poll/epoll, Unix, TCP and UDP sockets on loopback, timers and clocks.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 16];

static void check(int ok, const char *what) {
  if (!ok) {
    perror(what);
    exit(1);
  }
}

static void files(void) {
  mkdir("/tmp/train", 0755);
  for (int i = 0; i < 8; i++) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/train/f%d", i);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
    check(fd >= 0, "open");
    memset(buf, 'a' + i, 4096);
    check(write(fd, buf, 4096) == 4096, "write");
    struct iovec iov[2] = {{buf, 100}, {buf + 100, 200}};
    check(pwritev(fd, iov, 2, 8192) == 300, "pwritev");
    check(lseek(fd, 0, SEEK_SET) == 0, "lseek");
    check(read(fd, buf, sizeof buf) > 0, "read");
    check(pread(fd, buf, 10, 1) == 10, "pread");
    struct stat st;
    check(fstat(fd, &st) == 0 && stat(path, &st) == 0 && lstat(path, &st) == 0, "stat");
    check(ftruncate(fd, 100) == 0 && fsync(fd) == 0, "ftruncate");
    check(close(fd) == 0, "close");
  }
  check(rename("/tmp/train/f0", "/tmp/train/g0") == 0, "rename");
  check(symlink("g0", "/tmp/train/l0") == 0 && readlink("/tmp/train/l0", buf, 64) == 2, "symlink");
  check(access("/tmp/train/g0", R_OK) == 0 && chmod("/tmp/train/g0", 0600) == 0, "access");
  DIR *d = opendir("/tmp/train");
  check(d != NULL, "opendir");
  while (readdir(d) != NULL) {
  }
  closedir(d);
  d = opendir("/proc/self/fd");
  check(d != NULL, "opendir /proc");
  while (readdir(d) != NULL) {
  }
  closedir(d);
  FILE *f = fopen("/proc/self/status", "r");
  check(f != NULL, "fopen");
  while (fgets(buf, sizeof buf, f)) {
  }
  fclose(f);
  int fd = open("/etc/passwd", O_RDONLY);
  if (fd >= 0) {
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
  }
  char cwd[256];
  check(getcwd(cwd, sizeof cwd) != NULL && chdir("/tmp") == 0 && chdir(cwd) == 0, "cwd");
  for (int i = 1; i < 8; i++) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/train/f%d", i);
    check(unlink(path) == 0, "unlink");
  }
  unlink("/tmp/train/g0");
  unlink("/tmp/train/l0");
  check(rmdir("/tmp/train") == 0, "rmdir");
}

static void *thread_main(void *arg) {
  pthread_mutex_t *mu = arg;
  for (int i = 0; i < 100; i++) {
    pthread_mutex_lock(mu);
    pthread_mutex_unlock(mu);
  }
  return NULL;
}

static void threads(void) {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_t t[2];
  for (int i = 0; i < 2; i++) check(pthread_create(&t[i], NULL, thread_main, &mu) == 0, "pthread_create");
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
}

static volatile sig_atomic_t got;
static void on_signal(int sig) { got = sig; }

static void signals(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  check(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
  check(kill(getpid(), SIGUSR1) == 0 && got == SIGUSR1, "kill");
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  check(sigprocmask(SIG_BLOCK, &set, &old) == 0, "sigprocmask");
  raise(SIGUSR1);
  check(sigprocmask(SIG_SETMASK, &old, NULL) == 0, "sigprocmask");
  struct itimerval it = {{0, 0}, {0, 1000}};
  check(sigaction(SIGALRM, &sa, NULL) == 0 && setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer");
  pause();
}

static void memory(void) {
  for (int i = 0; i < 4; i++) {
    char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(p != MAP_FAILED, "mmap");
    memset(p, i, 1 << 20);
    check(mprotect(p, 4096, PROT_READ) == 0 && munmap(p, 1 << 20) == 0, "munmap");
  }
  void *big = malloc(8 << 20);
  check(big != NULL, "malloc");
  memset(big, 1, 8 << 20);
  free(big);
  int fd = memfd_create("train", 0);
  check(fd >= 0 && ftruncate(fd, 65536) == 0, "memfd");
  char *s = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  check(s != MAP_FAILED, "mmap shared");
  s[0] = 1;
  munmap(s, 65536);
  close(fd);
}

static void processes(const char *self) {
  int p[2];
  check(pipe2(p, O_CLOEXEC) == 0, "pipe");
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    check(write(p[1], "x", 1) == 1, "child write");
    execl(self, self, "child", (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  struct pollfd pf = {p[0], POLLIN, 0};
  check(poll(&pf, 1, 5000) == 1 && read(p[0], buf, 1) == 1, "poll");
  close(p[0]);
  int status;
  check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "waitpid");
  pid = vfork();
  if (pid == 0) _exit(0);
  check(waitpid(pid, &status, 0) == pid, "vfork wait");
}

static int tcp_listener(struct sockaddr_in *a) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  check(s >= 0 && setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0, "socket");
  memset(a, 0, sizeof *a);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof *a;
  check(bind(s, (struct sockaddr *)a, sizeof *a) == 0 && listen(s, 16) == 0, "listen");
  check(getsockname(s, (struct sockaddr *)a, &len) == 0, "getsockname");
  return s;
}

static void tcp(void) {
  struct sockaddr_in a;
  int l = tcp_listener(&a);
  const long bytes = 4 << 20;
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    for (int k = 0; k < 4; k++) {
      int c = k & 1 ? accept(l, NULL, NULL) : accept4(l, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0) _exit(2);
      long got = 0;
      ssize_t n;
      while ((n = read(c, buf, sizeof buf)) > 0) got += n;
      if (write(c, &got, sizeof got) != sizeof got) _exit(3);
      close(c);
    }
    _exit(0);
  }
  close(l);
  for (int k = 0; k < 4; k++) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    check(s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0, "connect");
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    long want = k == 0 ? bytes : 1000;
    for (long sent = 0; sent < want;) {
      ssize_t n = send(s, buf, want - sent < (long)sizeof buf ? want - sent : (long)sizeof buf, 0);
      check(n > 0, "send");
      sent += n;
    }
    check(shutdown(s, SHUT_WR) == 0, "shutdown");
    long echoed = 0;
    check(recv(s, &echoed, sizeof echoed, MSG_WAITALL) == sizeof echoed && echoed == want, "recv");
    close(s);
  }
  int status;
  check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "tcp server");
}

static void udp_and_unix(void) {
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  check(u >= 0 && bind(u, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(u, (struct sockaddr *)&a, &len) == 0,
        "udp bind");
  int c = socket(AF_INET, SOCK_DGRAM, 0);
  for (int i = 0; i < 4; i++) {
    check(sendto(c, "ping", 4, 0, (struct sockaddr *)&a, sizeof a) == 4, "sendto");
    check(recvfrom(u, buf, sizeof buf, 0, NULL, NULL) == 4, "recvfrom");
  }
  close(c);
  close(u);
  int sv[2];
  check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = sv[1]};
  check(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev) == 0, "epoll");
  for (int i = 0; i < 4; i++) {
    check(send(sv[0], "hello", 5, 0) == 5, "unix send");
    check(epoll_wait(ep, &ev, 1, 5000) == 1 && recv(sv[1], buf, sizeof buf, 0) == 5, "unix recv");
  }
  close(ep);
  close(sv[0]);
  close(sv[1]);
}

static void misc(void) {
  struct utsname un;
  struct timespec ts;
  check(uname(&un) == 0 && clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "uname");
  check(getrandom(buf, 16, 0) == 16, "getrandom");
  struct timespec d = {0, 1000000};
  nanosleep(&d, NULL);
  (void)getppid();
  (void)getuid();
  (void)getpgrp();
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0) return 0;
  files();
  threads();
  signals();
  memory();
  processes(argv[0]);
  tcp();
  udp_and_unix();
  misc();
  return 0;
}
