// Futexes in memory shared between processes, against Linux: a waiter in one process is woken by
// FUTEX_WAKE from another that maps the same memory, at the same or another address (shared
// anonymous memory, MAP_SHARED of a file in each directory given as argument, SysV shm), through
// POSIX named semaphores and a robust process-shared mutex whose owner dies; FUTEX_PRIVATE_FLAG
// keeps a wake inside its own process. Only the parent prints; children report by exit status.
// Run natively and under tsvisor: the output must be the same.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long futex(uint32_t *w, int op, uint32_t val, long timeout_ms) {
  struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000};
  return syscall(SYS_futex, w, op, val, timeout_ms ? &ts : NULL, NULL, 0);
}

// The child's half: say it is about to wait, then wait (shared) for at most 5 s. Exit status 0
// when woken, 1 on timeout, 2 on another error.
static void waiter(uint32_t *w, int ready) {
  if (write(ready, "r", 1) != 1) _exit(3);
  long r = futex(w, FUTEX_WAIT, 0, 5000);
  _exit(r == 0 ? 0 : errno == ETIMEDOUT ? 1 : 2);
}

// Wakes (with `op`) until one waiter is woken, for at most 2 s: the child may not sleep yet.
static long wake_one(uint32_t *w, int op) {
  for (int i = 0; i < 200; i++) {
    long n = futex(w, op, 1, 0);
    if (n != 0) return n;
    usleep(10000);
  }
  return 0;
}

static int reap(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Forks a waiter on `child_word()`'s word and wakes it through `w` with `op`.
static void round_trip(const char *what, uint32_t *w, uint32_t *(*child_word)(void)) {
  int p[2];
  if (pipe(p)) exit(9);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    waiter(child_word ? child_word() : w, p[1]);
  }
  close(p[1]);
  char c;
  if (read(p[0], &c, 1) != 1) exit(9);
  close(p[0]);
  long n = wake_one(w, FUTEX_WAKE);
  printf("%s: woke %ld, child status %d\n", what, n, reap(pid));
}

static uint32_t *anon;
static char path[4096];
static int shmid;

// The file mapped again in the child, at another address (a page of padding first).
static uint32_t *file_word_elsewhere(void) {
  int fd = open(path, O_RDWR);
  if (fd < 0) _exit(4);
  void *pad = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  (void)pad;
  char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) _exit(4);
  return (uint32_t *)(m + 4096 + 64);
}

static uint32_t *shm_word_elsewhere(void) {
  void *pad = mmap(NULL, 5 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  (void)pad;
  char *m = shmat(shmid, NULL, 0);
  if (m == (void *)-1) _exit(4);
  return (uint32_t *)(m + 128);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  setvbuf(stdout, NULL, _IONBF, 0);

  // 1. Shared anonymous memory inherited across fork.
  anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  round_trip("shared anonymous", anon, NULL);

  // 2. FUTEX_WAKE_PRIVATE from another process does not reach the waiter; a shared wake does.
  {
    int p[2];
    if (pipe(p)) return 9;
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      waiter(anon, p[1]);
    }
    close(p[1]);
    char c;
    if (read(p[0], &c, 1) != 1) return 9;
    usleep(200000);  // the child is asleep by now
    long priv = futex(anon, FUTEX_WAKE_PRIVATE, 1, 0);
    long shared = wake_one(anon, FUTEX_WAKE);
    printf("private wake from another process: woke %ld; shared wake: woke %ld, child status %d\n", priv,
           shared, reap(pid));
  }

  // 3. MAP_SHARED of a file in each directory given, mapped again at another address in the child.
  for (int i = 1; i < argc; i++) {
    snprintf(path, sizeof path, "%s/shared-futex.%d", argv[i], getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 2 * 4096)) return 5;
    char *fm = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fm == MAP_FAILED) return 5;
    char what[64];
    snprintf(what, sizeof what, "file mapped twice (directory %d)", i);
    round_trip(what, (uint32_t *)(fm + 4096 + 64), file_word_elsewhere);
    unlink(path);
    close(fd);
  }

  // 4. SysV shared memory attached at another address in the child.
  shmid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  char *sm = shmid < 0 ? (void *)-1 : shmat(shmid, NULL, 0);
  if (sm == (void *)-1) return 6;
  round_trip("SysV shm attached twice", (uint32_t *)(sm + 128), shm_word_elsewhere);
  shmctl(shmid, IPC_RMID, NULL);

  // 5. A POSIX named semaphore: the child waits in sem_wait, the parent posts.
  {
    char name[64];
    snprintf(name, sizeof name, "/shared-futex-%d", getpid());
    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
    if (s == SEM_FAILED) return 7;
    int p[2];
    if (pipe(p)) return 9;
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      sem_t *c = sem_open(name, 0);
      if (c == SEM_FAILED || write(p[1], "r", 1) != 1) _exit(4);
      struct timespec dl;
      clock_gettime(CLOCK_REALTIME, &dl);
      dl.tv_sec += 5;
      _exit(sem_timedwait(c, &dl) == 0 ? 0 : 1);
    }
    close(p[1]);
    char c;
    if (read(p[0], &c, 1) != 1) return 9;
    usleep(100000);
    sem_post(s);
    printf("named semaphore: child status %d\n", reap(pid));
    sem_unlink(name);
  }

  // 6. A robust process-shared mutex whose owner dies while the parent waits for it.
  {
    pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(m, &a);
    int p[2];
    if (pipe(p)) return 9;
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      if (pthread_mutex_lock(m) != 0 || write(p[1], "r", 1) != 1) _exit(4);
      usleep(200000);  // the parent is waiting for the lock by now
      _exit(0);        // dies holding it
    }
    close(p[1]);
    char c;
    if (read(p[0], &c, 1) != 1) return 9;
    int r = pthread_mutex_lock(m);
    printf("robust mutex after its owner died: %s, child status %d\n", r == EOWNERDEAD ? "EOWNERDEAD" : strerror(r),
           reap(pid));
  }
  return 0;
}
