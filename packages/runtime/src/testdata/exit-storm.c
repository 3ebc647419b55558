/*
 * A process ends while many of its threads are inside system calls of every kind. The parent
 * forks `rounds` children in turn; each child starts `threads` workers, waits until every
 * worker is in its loop, lets them run for a moment, then ends in one of four ways:
 *   exit    return from main (exit_group);
 *   leader  the main thread leaves first (pthread_exit), a worker calls exit(0) a moment later;
 *   signal  kill(getpid(), SIGTERM) with the default action (a fatal signal for the group);
 *   exec    a worker (not the leader) execs this program again with "exec-done", which exits 42
 *           (de_thread: every other thread, the leader included, goes first);
 *   park, park-spin  the workers only make calls that block for good (read, write to a full
 *           pipe, futex, recv, accept); the child prints "ready" and waits (pause, or a loop
 *           without syscalls) for someone outside to SIGKILL it (the host's OOM killer would).
 * Workers: read on an empty pipe, write to a full pipe, futex wait (condition variable),
 * nanosleep, poll, epoll_wait, recv on a socketpair, accept on a listening socket, thread
 * creation (clone) in a loop, mmap/munmap in a loop, open/read/write on files, getpid in a
 * tight loop, and a loop without system calls.
 *
 *   exit-storm MODE ROUNDS THREADS   MODE is exit, leader, signal, exec, park, park-spin or
 *                                    mix (the first four in turn)
 *
 * The parent checks each child's status (exit 0, killed by SIGTERM, exit 42, killed by SIGKILL)
 * and prints "ok ROUNDS" once all were as expected, exit status 0. A lost or wrong child status
 * is printed, exit status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { K_READ, K_WRITE, K_FUTEX, K_SLEEP, K_POLL, K_EPOLL, K_RECV, K_ACCEPT, K_CLONE, K_MMAP, K_FILE, K_GETPID, K_SPIN, KINDS };

static atomic_int started;
static int emptyPipe[2], fullPipe[2], sockPair[2], listener, epfd;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static const char *self;

static void *nothing(void *arg) { return arg; }

static void *ender(void *arg) {
  struct timespec ts = {0, 300000};
  nanosleep(&ts, 0);
  exit(0);
  return arg;
}

static void *execer(void *arg) {
  char *argv[] = {(char *)self, "exec-done", 0};
  execv(self, argv);
  _exit(3);
  return arg;
}

/* Calls that block until someone else acts: the only kinds of the park modes. */
static const int blocking[] = {K_READ, K_WRITE, K_FUTEX, K_RECV, K_ACCEPT};
static int parkMode;

static void *worker(void *arg) {
  int kind = parkMode ? blocking[(long)arg % 5] : (int)(long)arg % KINDS;
  char buf[256];
  atomic_fetch_add(&started, 1);
  for (unsigned n = 0;; n++) {
    switch (kind) {
      case K_READ:
        if (read(emptyPipe[0], buf, 1) < 0 && errno != EINTR) return 0;
        break;
      case K_WRITE:
        if (write(fullPipe[1], buf, sizeof buf) < 0 && errno != EINTR) return 0;
        break;
      case K_FUTEX:
        pthread_mutex_lock(&mu);
        pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        break;
      case K_SLEEP: {
        struct timespec ts = {0, 1000 + (long)(n % 7) * 50000};
        nanosleep(&ts, 0);
        break;
      }
      case K_POLL: {
        struct pollfd p = {emptyPipe[0], POLLIN, 0};
        poll(&p, 1, 1 + (int)(n % 3));
        break;
      }
      case K_EPOLL: {
        struct epoll_event ev;
        epoll_wait(epfd, &ev, 1, n % 2 ? 5 : -1);
        break;
      }
      case K_RECV:
        recv(sockPair[0], buf, sizeof buf, 0);
        break;
      case K_ACCEPT:
        accept(listener, 0, 0);
        break;
      case K_CLONE: {
        pthread_t t;
        if (pthread_create(&t, 0, nothing, 0) == 0) pthread_join(t, 0);
        break;
      }
      case K_MMAP: {
        void *p = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
          memset(p, 1, 4096);
          munmap(p, 65536);
        }
        break;
      }
      case K_FILE: {
        int fd = open(self, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
          ssize_t got = read(fd, buf, 200);
          close(fd);
          int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
          if (nul >= 0) {
            if (got > 0 && write(nul, buf, (size_t)got) < 0) return 0;
            close(nul);
          }
        }
        break;
      }
      case K_GETPID:
        getpid();
        break;
      case K_SPIN:
        for (volatile int i = 0; i < 100000; i++) {
        }
        break;
    }
  }
}

static void child(const char *mode, int threads, unsigned seed) {
  parkMode = strncmp(mode, "park", 4) == 0;
  if (pipe2(emptyPipe, O_CLOEXEC) || pipe2(fullPipe, O_CLOEXEC) ||
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockPair))
    _exit(4);
  fcntl(fullPipe[1], F_SETFL, O_NONBLOCK);
  char fill[4096] = {0};
  while (write(fullPipe[1], fill, sizeof fill) > 0) {
  }
  fcntl(fullPipe[1], F_SETFL, 0);
  listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un {
    unsigned short family;
    char path[108];
  } addr = {AF_UNIX, ""};
  snprintf(addr.path + 1, sizeof addr.path - 1, "exit-storm-%d", getpid());
  if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) || listen(listener, 1)) _exit(5);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {EPOLLIN, {0}};
  if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, emptyPipe[0], &ev)) _exit(6);
  for (int i = 0; i < threads; i++) {
    pthread_t t;
    if (pthread_create(&t, 0, worker, (void *)(long)i)) _exit(7);
  }
  while (atomic_load(&started) < threads) sched_yield();
  // Let the workers reach their calls; a varying delay moves the end across their loops.
  struct timespec ts = {0, (long)(seed % 5) * 200000};
  nanosleep(&ts, 0);
  if (strcmp(mode, "signal") == 0) {
    kill(getpid(), SIGTERM);
    for (;;) pause();
  }
  if (strncmp(mode, "park", 4) == 0) {
    printf("ready\n");
    fflush(stdout);
    if (strcmp(mode, "park-spin") == 0)
      for (;;) {
      }
    for (;;) pause();
  }
  if (strcmp(mode, "leader") == 0) {
    pthread_t t;
    if (pthread_create(&t, 0, ender, 0)) _exit(8);
    pthread_exit(0);
  }
  if (strcmp(mode, "exec") == 0) {
    pthread_t t;
    if (pthread_create(&t, 0, execer, 0)) _exit(8);
    for (;;) pause();
  }
  exit(0);
}

int main(int argc, char **argv) {
  self = argv[0];
  if (argc == 2 && strcmp(argv[1], "exec-done") == 0) return 42;
  if (argc != 4) {
    fprintf(stderr, "usage: exit-storm exit|leader|signal|exec|park|park-spin|mix ROUNDS THREADS\n");
    return 2;
  }
  const char *modes[] = {"exit", "leader", "signal", "exec"};
  int rounds = atoi(argv[2]), threads = atoi(argv[3]);
  for (int r = 0; r < rounds; r++) {
    const char *mode = strcmp(argv[1], "mix") == 0 ? modes[r % 4] : argv[1];
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) child(mode, threads, (unsigned)r);
    int st;
    if (waitpid(pid, &st, 0) != pid) {
      printf("round %d (%s): waitpid failed: %s\n", r, mode, strerror(errno));
      return 1;
    }
    int ok = strcmp(mode, "exit") == 0 || strcmp(mode, "leader") == 0 ? WIFEXITED(st) && WEXITSTATUS(st) == 0
             : strcmp(mode, "signal") == 0                            ? WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM
             : strncmp(mode, "park", 4) == 0                          ? WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL
                                                                      : WIFEXITED(st) && WEXITSTATUS(st) == 42;
    if (!ok) {
      printf("round %d (%s): unexpected status 0x%x\n", r, mode, st);
      return 1;
    }
  }
  printf("ok %d\n", rounds);
  return 0;
}
