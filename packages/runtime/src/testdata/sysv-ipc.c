// System V IPC conformance: shared memory, semaphores and message queues, with fork children
// sharing a segment, a semaphore set and a queue. Run natively in a fresh IPC namespace
// (`unshare -i`) and under tsvisor; both must print the same. Pids and times are printed only
// as comparisons ("self", "child"), ids as they come (a fresh namespace starts at 0).
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <grp.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

union semun {
  int val;
  struct semid_ds *buf;
  unsigned short *array;
  struct seminfo *__buf;
};

static const char *ename(int e) {
  switch (e) {
  case EINVAL: return "EINVAL";
  case EEXIST: return "EEXIST";
  case ENOENT: return "ENOENT";
  case EACCES: return "EACCES";
  case EPERM: return "EPERM";
  case EAGAIN: return "EAGAIN";
  case EFBIG: return "EFBIG";
  case E2BIG: return "E2BIG";
  case ERANGE: return "ERANGE";
  case EIDRM: return "EIDRM";
  case EINTR: return "EINTR";
  case ENOMSG: return "ENOMSG";
  case EFAULT: return "EFAULT";
  case ENOSPC: return "ENOSPC";
  default: return "E?";
  }
}

#define SHOW(what, expr)                                                                           \
  do {                                                                                             \
    long r_ = (long)(expr);                                                                        \
    if (r_ == -1) printf("%s = -1 %s\n", what, ename(errno));                                      \
    else printf("%s = %ld\n", what, r_);                                                           \
  } while (0)

static void nap(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

static int child_status(pid_t pid) {
  int st;
  if (waitpid(pid, &st, 0) != pid) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// Waits until `pid` sleeps (state S in /proc/<pid>/stat): blocked in msgsnd or msgrcv.
static void wait_sleeping(pid_t pid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  for (;;) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *close = strrchr(buf, ')');
    if (close && close[1] == ' ' && close[2] == 'S') return;
    nap(2);
  }
}

static void on_usr1(int sig) { (void)sig; }

static void shm_part(void) {
  printf("== shm\n");
  int a = shmget(IPC_PRIVATE, 10000, IPC_CREAT | 0600);
  printf("private id %d\n", a);
  int k = shmget(0x1234, 12288, IPC_CREAT | IPC_EXCL | 0640);
  printf("keyed id %d\n", k);
  SHOW("again with IPC_EXCL", shmget(0x1234, 4096, IPC_CREAT | IPC_EXCL | 0640));
  SHOW("lookup", shmget(0x1234, 0, 0));
  SHOW("lookup larger", shmget(0x1234, 12289, 0));
  SHOW("missing key", shmget(0x9999, 4096, 0));
  SHOW("create size 0", shmget(0x9999, 0, IPC_CREAT | 0600));
  SHOW("lookup asking rwx", shmget(0x1234, 0, 0777));

  struct shmid_ds ds;
  SHOW("IPC_STAT", shmctl(a, IPC_STAT, &ds));
  printf("key %d mode %o segsz %zu nattch %lu cpid %s uid %u cuid %u times %s\n", ds.shm_perm.__key,
         ds.shm_perm.mode, ds.shm_segsz, (unsigned long)ds.shm_nattch,
         ds.shm_cpid == getpid() ? "self" : "other", ds.shm_perm.uid, ds.shm_perm.cuid,
         ds.shm_atime == 0 && ds.shm_dtime == 0 && ds.shm_ctime != 0 ? "fresh" : "?");

  char *p = shmat(a, NULL, 0);
  printf("shmat ok %d aligned %d\n", p != (void *)-1, ((unsigned long)p & 4095) == 0);
  strcpy(p, "hello");
  p[9999] = 'z';
  shmctl(a, IPC_STAT, &ds);
  printf("after attach nattch %lu lpid %s atime %s\n", (unsigned long)ds.shm_nattch,
         ds.shm_lpid == getpid() ? "self" : "other", ds.shm_atime != 0 ? "set" : "unset");

  pid_t pid = fork();
  if (pid == 0) {
    struct shmid_ds cds;
    shmctl(a, IPC_STAT, &cds);
    printf("child inherits: nattch %lu text %s\n", (unsigned long)cds.shm_nattch, p);
    char *q = shmat(a, NULL, 0);
    shmctl(a, IPC_STAT, &cds);
    printf("child second attach: nattch %lu same text %d last %c\n", (unsigned long)cds.shm_nattch,
           strcmp(q, "hello") == 0, q[9999]);
    strcpy(q, "written by child");
    SHOW("child shmdt", shmdt(q));
    _exit(0);
  }
  printf("child exit %d\n", child_status(pid));
  printf("parent reads: %s\n", p);
  shmctl(a, IPC_STAT, &ds);
  printf("after child exit nattch %lu\n", (unsigned long)ds.shm_nattch);

  // The keyed segment in /proc/self/maps.
  char *kp = shmat(k, NULL, SHM_RDONLY);
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  while (f && fgets(line, sizeof line, f)) {
    if (!strstr(line, "SYSV00001234")) continue;
    char perms[8], dev[16], path[64];
    unsigned long off, ino;
    sscanf(line, "%*s %7s %lx %15s %lu %63[^\n]", perms, &off, dev, &ino, path);
    printf("maps: %s %08lx %s ino==id %d %s\n", perms, off, dev, ino == (unsigned long)k, path);
  }
  if (f) fclose(f);
  SHOW("mprotect read-only attach writable", mprotect(kp, 4096, PROT_READ | PROT_WRITE));
  SHOW("shmdt inside", shmdt(kp + 4096));
  SHOW("shmdt unaligned", shmdt(kp + 1));
  SHOW("shmdt keyed", shmdt(kp));
  SHOW("shmdt again", shmdt(kp));

  SHOW("shmat misaligned", (long)shmat(a, (void *)(p + 100), 0));
  SHOW("shmat SHM_REMAP without address", (long)shmat(a, NULL, SHM_REMAP));
  char *over = shmat(a, p, 0);
  printf("shmat over its own attachment: %s\n", over == p ? "same address" : over == (void *)-1 ? ename(errno) : "elsewhere");
  char *r = shmat(a, p + 100, SHM_RND | SHM_REMAP);
  printf("SHM_RND|SHM_REMAP at same place %d text %s\n", r == p, r);
  SHOW("shmat bad id", (long)shmat(12345, NULL, 0));
  char *anon = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  SHOW("shmat over an anonymous mapping", (long)shmat(a, anon, 0));
  munmap(anon, 8192);

  ds.shm_perm.mode = 0604;
  SHOW("IPC_SET", shmctl(a, IPC_SET, &ds));
  shmctl(a, IPC_STAT, &ds);
  printf("mode after IPC_SET %o nattch %lu\n", ds.shm_perm.mode, (unsigned long)ds.shm_nattch);

  struct shminfo info;
  int maxidx = shmctl(0, IPC_INFO, (struct shmid_ds *)&info);
  printf("IPC_INFO %d shmmax %lu shmmin %lu shmmni %lu shmseg %lu shmall %lu\n", maxidx, info.shmmax,
         info.shmmin, info.shmmni, info.shmseg, info.shmall);
  struct shm_info sinfo;
  maxidx = shmctl(0, SHM_INFO, (struct shmid_ds *)&sinfo);
  printf("SHM_INFO %d used_ids %d shm_tot %lu\n", maxidx, sinfo.used_ids, sinfo.shm_tot);
  SHOW("SHM_STAT index 1", shmctl(1, SHM_STAT, &ds));
  SHOW("SHM_STAT_ANY index 0", shmctl(0, SHM_STAT_ANY, &ds));
  SHOW("SHM_STAT empty index", shmctl(7, SHM_STAT, &ds));

  SHOW("IPC_RMID attached", shmctl(a, IPC_RMID, NULL));
  shmctl(a, IPC_STAT, &ds);
  printf("marked: key %d dest %d nattch %lu\n", ds.shm_perm.__key, (ds.shm_perm.mode & SHM_DEST) != 0,
         (unsigned long)ds.shm_nattch);
  SHOW("shmat marked", shmdt(shmat(a, NULL, 0)));
  SHOW("shmdt last", shmdt(p));
  SHOW("IPC_STAT gone", shmctl(a, IPC_STAT, &ds));
  SHOW("IPC_RMID keyed", shmctl(k, IPC_RMID, NULL));
  SHOW("lookup removed key", shmget(0x1234, 0, 0));
  SHOW("bad command", shmctl(k, 99, &ds));
  SHOW("negative id", shmctl(-1, IPC_STAT, &ds));
  // x86-64 has no IPC_64 (0x100) version bit: a command carrying it is unknown.
  int k2 = shmget(IPC_PRIVATE, 4096, 0600);
  SHOW("IPC_STAT|0x100", syscall(SYS_shmctl, k2, IPC_STAT | 0x100, &ds));
  SHOW("IPC_RMID", shmctl(k2, IPC_RMID, NULL));
}

static void sem_part(void) {
  printf("== sem\n");
  int s = semget(0x5151, 3, IPC_CREAT | 0600);
  printf("sem id %d\n", s);
  SHOW("lookup nsems 0", semget(0x5151, 0, 0));
  SHOW("lookup nsems 4", semget(0x5151, 4, 0));
  SHOW("nsems too many", semget(IPC_PRIVATE, 40000, 0600));
  SHOW("create nsems 0", semget(IPC_PRIVATE, 0, 0600));
  union semun u;
  struct semid_ds ds;
  u.buf = &ds;
  SHOW("IPC_STAT", semctl(s, 0, IPC_STAT, u));
  printf("key %x mode %o nsems %lu otime %ld\n", ds.sem_perm.__key, ds.sem_perm.mode, ds.sem_nsems,
         (long)ds.sem_otime);
  u.val = 2;
  SHOW("SETVAL", semctl(s, 0, SETVAL, u));
  u.val = 40000;
  SHOW("SETVAL too big", semctl(s, 0, SETVAL, u));
  u.val = 1;
  SHOW("SETVAL bad semnum", semctl(s, 3, SETVAL, u));
  SHOW("GETVAL", semctl(s, 0, GETVAL));
  SHOW("GETPID is self", semctl(s, 0, GETPID) == getpid());
  unsigned short vals[3] = {1, 0, 5}, got[3];
  u.array = vals;
  SHOW("SETALL", semctl(s, 0, SETALL, u));
  u.array = got;
  SHOW("GETALL", semctl(s, 0, GETALL, u));
  printf("values %u %u %u\n", got[0], got[1], got[2]);

  struct sembuf two[2] = {{0, -1, IPC_NOWAIT}, {1, -1, IPC_NOWAIT}};
  SHOW("atomic pair, second blocks", semop(s, two, 2));
  SHOW("first untouched", semctl(s, 0, GETVAL));
  struct sembuf big = {2, 32767, 0};
  SHOW("above SEMVMX", semop(s, &big, 1));
  struct sembuf far = {3, 1, 0};
  SHOW("semnum out of range", semop(s, &far, 1));
  SHOW("no operations", semop(s, &far, 0));
  static struct sembuf many[501];
  SHOW("too many operations", semop(s, many, 501));
  struct sembuf wait0 = {2, 0, 0};
  struct timespec ts = {0, 50 * 1000000L};
  SHOW("semtimedop timeout", semtimedop(s, &wait0, 1, &ts));
  struct timespec bad = {0, 1000000000L};
  SHOW("semtimedop bad timeout", semtimedop(s, &wait0, 1, &bad));
  struct sembuf ok[2] = {{0, -1, 0}, {2, 2, 0}};
  SHOW("atomic pair", semop(s, ok, 2));
  u.array = got;
  semctl(s, 0, GETALL, u);
  printf("values %u %u %u\n", got[0], got[1], got[2]);
  semctl(s, 0, IPC_STAT, (union semun){.buf = &ds});
  printf("otime %s\n", ds.sem_otime != 0 ? "set" : "unset");

  // A child blocks on semaphore 1; the parent sees it in GETNCNT and releases it.
  pid_t pid = fork();
  if (pid == 0) {
    struct sembuf down = {1, -1, 0};
    int r = semop(s, &down, 1);
    _exit(r == 0 ? 10 : 20);
  }
  while (semctl(s, 1, GETNCNT) != 1) nap(5);
  printf("GETNCNT 1, GETZCNT %d\n", semctl(s, 1, GETZCNT));
  struct sembuf up = {1, 1, 0};
  SHOW("release", semop(s, &up, 1));
  printf("blocked child exit %d\n", child_status(pid));
  printf("value %d, pid is child %d\n", semctl(s, 1, GETVAL), semctl(s, 1, GETPID) == pid);

  // A child waits for zero on semaphore 2.
  pid = fork();
  if (pid == 0) {
    struct sembuf z = {2, 0, 0};
    _exit(semop(s, &z, 1) == 0 ? 11 : 21);
  }
  while (semctl(s, 2, GETZCNT) != 1) nap(5);
  printf("GETZCNT 1\n");
  u.val = 0;
  semctl(s, 2, SETVAL, u);
  printf("zero-waiter exit %d\n", child_status(pid));

  // SEM_UNDO: what a child adds is taken back when it exits.
  pid = fork();
  if (pid == 0) {
    struct sembuf add = {0, 4, SEM_UNDO};
    semop(s, &add, 1);
    printf("child sees %d\n", semctl(s, 0, GETVAL));
    _exit(0);
  }
  child_status(pid);
  printf("after undo %d\n", semctl(s, 0, GETVAL));

  // EINTR: a signal with a handler ends a blocked semop.
  pid = fork();
  if (pid == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    struct sembuf down = {1, -1, 0};
    int r = semop(s, &down, 1);
    _exit(r == -1 && errno == EINTR ? 12 : 22);
  }
  while (semctl(s, 1, GETNCNT) != 1) nap(5);
  kill(pid, SIGUSR1);
  printf("interrupted child exit %d\n", child_status(pid));
  printf("ncnt after %d\n", semctl(s, 1, GETNCNT));

  struct seminfo si;
  u.__buf = &si;
  int maxidx = semctl(0, 0, IPC_INFO, u);
  printf("IPC_INFO %d semmni %d semmns %d semmsl %d semopm %d semvmx %d semaem %d semusz %d\n", maxidx,
         si.semmni, si.semmns, si.semmsl, si.semopm, si.semvmx, si.semaem, si.semusz);
  maxidx = semctl(0, 0, SEM_INFO, u);
  printf("SEM_INFO %d semusz %d semaem %d\n", maxidx, si.semusz, si.semaem);
  u.buf = &ds;
  SHOW("SEM_STAT index 0 is id", semctl(0, 0, SEM_STAT, u) == s);

  // EIDRM: removing the set wakes a blocked child.
  pid = fork();
  if (pid == 0) {
    struct sembuf down = {1, -1, 0};
    int r = semop(s, &down, 1);
    _exit(r == -1 && errno == EIDRM ? 13 : 23);
  }
  while (semctl(s, 1, GETNCNT) != 1) nap(5);
  SHOW("IPC_RMID", semctl(s, 0, IPC_RMID));
  printf("removed-set child exit %d\n", child_status(pid));
  SHOW("GETVAL removed", semctl(s, 0, GETVAL));
  SHOW("bad command", semctl(0, 0, 99));
}

static int thread_sem;

static void *thread_main(void *arg) {
  (void)arg;
  struct sembuf down = {0, -1, 0};
  long r = semop(thread_sem, &down, 1); // blocks until the main thread posts
  struct sembuf add = {1, 3, SEM_UNDO};
  if (r == 0) r = semop(thread_sem, &add, 1);
  return (void *)r;
}

// Threads: one blocks in semop while the other posts; SEM_UNDO adjustments belong to the
// process (glibc's threads share them, CLONE_SYSVSEM), so a thread's exit undoes nothing.
static void thread_part(void) {
  printf("== threads\n");
  thread_sem = semget(IPC_PRIVATE, 2, 0600);
  pthread_t th;
  pthread_create(&th, NULL, thread_main, NULL);
  while (semctl(thread_sem, 0, GETNCNT) != 1) nap(5);
  struct sembuf up = {0, 1, 0};
  SHOW("post", semop(thread_sem, &up, 1));
  void *ret;
  pthread_join(th, &ret);
  printf("thread semops %ld, value after thread exit %d\n", (long)ret, semctl(thread_sem, 1, GETVAL));
  pid_t pid = fork();
  if (pid == 0) {
    struct sembuf add = {1, 2, SEM_UNDO};
    semop(thread_sem, &add, 1);
    _exit(0);
  }
  child_status(pid);
  printf("after a child's undo %d\n", semctl(thread_sem, 1, GETVAL));
  semctl(thread_sem, 0, IPC_RMID);
}

struct msg {
  long type;
  char text[64];
};

static void msg_part(void) {
  printf("== msg\n");
  int q = msgget(IPC_PRIVATE, 0600);
  printf("queue id %d\n", q);
  struct msg m;
  long types[] = {3, 1, 2, 1};
  const char *texts[] = {"three", "one-a", "two", "one-b"};
  for (int i = 0; i < 4; i++) {
    m.type = types[i];
    strcpy(m.text, texts[i]);
    SHOW("msgsnd", msgsnd(q, &m, strlen(texts[i]) + 1, 0));
  }
  m.type = 0;
  SHOW("msgsnd type 0", msgsnd(q, &m, 4, 0));
  SHOW("msgsnd too big", msgsnd(q, &m, 8193, 0));
  struct msqid_ds ds;
  SHOW("IPC_STAT", msgctl(q, IPC_STAT, &ds));
  printf("qnum %lu cbytes %lu qbytes %lu lspid %s mode %o\n", ds.msg_qnum, ds.__msg_cbytes, ds.msg_qbytes,
         ds.msg_lspid == getpid() ? "self" : "other", ds.msg_perm.mode);

  SHOW("MSG_COPY index 2", msgrcv(q, &m, 64, 2, MSG_COPY | IPC_NOWAIT));
  printf("copied %ld %s\n", m.type, m.text);
  SHOW("MSG_COPY index 9", msgrcv(q, &m, 64, 9, MSG_COPY | IPC_NOWAIT));
  SHOW("MSG_COPY without IPC_NOWAIT", msgrcv(q, &m, 64, 0, MSG_COPY));
  SHOW("too small", msgrcv(q, &m, 2, 0, 0));
  SHOW("MSG_NOERROR", msgrcv(q, &m, 2, 0, MSG_NOERROR));
  printf("got %ld %.2s\n", m.type, m.text);
  SHOW("type -2", msgrcv(q, &m, 64, -2, 0));
  printf("got %ld %s\n", m.type, m.text);
  SHOW("MSG_EXCEPT 1", msgrcv(q, &m, 64, 1, MSG_EXCEPT));
  printf("got %ld %s\n", m.type, m.text);
  SHOW("type 1", msgrcv(q, &m, 64, 1, 0));
  printf("got %ld %s\n", m.type, m.text);
  SHOW("empty, IPC_NOWAIT", msgrcv(q, &m, 64, 0, IPC_NOWAIT));

  ds.msg_qbytes = 20;
  SHOW("IPC_SET qbytes 20", msgctl(q, IPC_SET, &ds));
  m.type = 5;
  SHOW("fill", msgsnd(q, &m, 16, 0));
  SHOW("full, IPC_NOWAIT", msgsnd(q, &m, 16, IPC_NOWAIT));

  // A sender blocks on the full queue until the parent receives.
  pid_t pid = fork();
  if (pid == 0) {
    struct msg c = {7, "from child"};
    _exit(msgsnd(q, &c, 11, 0) == 0 ? 14 : 24);
  }
  wait_sleeping(pid);
  SHOW("receive to make room", msgrcv(q, &m, 64, 5, 0));
  printf("blocked sender exit %d\n", child_status(pid));
  SHOW("receive child's", msgrcv(q, &m, 64, 0, 0));
  printf("got %ld %s\n", m.type, m.text);
  msgctl(q, IPC_STAT, &ds);
  printf("lrpid %s lspid %s qnum %lu\n", ds.msg_lrpid == getpid() ? "self" : "other",
         ds.msg_lspid == pid ? "child" : "other", ds.msg_qnum);

  // A receiver blocks until the parent sends.
  pid = fork();
  if (pid == 0) {
    struct msg c;
    ssize_t n = msgrcv(q, &c, 64, 9, 0);
    printf("child received %zd %ld %s\n", n, c.type, c.text);
    _exit(15);
  }
  wait_sleeping(pid);
  m.type = 9;
  strcpy(m.text, "for child");
  int sent = msgsnd(q, &m, 10, 0);
  // The child prints first: the parent's line waits for its exit.
  printf("receiver exit %d\n", child_status(pid));
  SHOW("send to blocked receiver", sent);

  struct msginfo mi;
  int maxidx = msgctl(0, IPC_INFO, (struct msqid_ds *)&mi);
  printf("IPC_INFO %d msgmax %d msgmnb %d msgmni %d msgssz %d msgpool %d msgmap %d msgtql %d msgseg %u\n",
         maxidx, mi.msgmax, mi.msgmnb, mi.msgmni, mi.msgssz, mi.msgpool, mi.msgmap, mi.msgtql,
         (unsigned)mi.msgseg);
  m.type = 1;
  msgsnd(q, &m, 10, 0);
  maxidx = msgctl(0, MSG_INFO, (struct msqid_ds *)&mi);
  printf("MSG_INFO %d msgpool %d msgmap %d msgtql %d\n", maxidx, mi.msgpool, mi.msgmap, mi.msgtql);
  SHOW("MSG_STAT index 0 is id", msgctl(0, MSG_STAT, &ds) == q);

  // Removing the queue wakes a blocked receiver with EIDRM.
  pid = fork();
  if (pid == 0) {
    struct msg c;
    _exit(msgrcv(q, &c, 64, 42, 0) == -1 && errno == EIDRM ? 16 : 26);
  }
  wait_sleeping(pid);
  SHOW("IPC_RMID", msgctl(q, IPC_RMID, NULL));
  printf("removed-queue child exit %d\n", child_status(pid));
  SHOW("msgsnd removed", msgsnd(q, &m, 4, 0));
}

// Another user: access checks (EACCES), owner checks (EPERM), and what the *_STAT_ANY
// commands and the group bits still allow.
static void perm_part(void) {
  printf("== permissions\n");
  int shm = shmget(0x7001, 4096, IPC_CREAT | 0640);
  int sem = semget(0x7002, 1, IPC_CREAT | 0600);
  int q = msgget(0x7003, IPC_CREAT | 0604);
  struct shmid_ds sds;
  shmctl(shm, IPC_STAT, &sds);
  sds.shm_perm.gid = 2000;
  shmctl(shm, IPC_SET, &sds);
  pid_t pid = fork();
  if (pid == 0) {
    gid_t groups[1] = {2000};
    if (setgroups(1, groups) || setgid(3000) || setuid(1000)) _exit(99);
    SHOW("shmget read by group", shmget(0x7001, 0, 0440) == shm);
    SHOW("shmget write by group", shmget(0x7001, 0, 0660));
    SHOW("shmat read-only", shmdt(shmat(shm, NULL, SHM_RDONLY)));
    SHOW("shmat read-write", (long)shmat(shm, NULL, 0));
    SHOW("shm IPC_STAT", shmctl(shm, IPC_STAT, &sds));
    SHOW("shm IPC_RMID", shmctl(shm, IPC_RMID, NULL));
    SHOW("semget", semget(0x7002, 0, 0400));
    SHOW("semget no access asked", semget(0x7002, 0, 0) == sem);
    struct sembuf up = {0, 1, 0};
    SHOW("semop", semop(sem, &up, 1));
    SHOW("GETVAL", semctl(sem, 0, GETVAL));
    struct semid_ds semds;
    union semun u = {.buf = &semds};
    printf("sem index %d\n", sem % 32768);
    SHOW("SEM_STAT_ANY", semctl(sem % 32768, 0, SEM_STAT_ANY, u) == sem);
    SHOW("SEM_STAT", semctl(sem % 32768, 0, SEM_STAT, u));
    SHOW("sem IPC_SET", semctl(sem, 0, IPC_SET, u));
    struct msqid_ds mds;
    SHOW("msg IPC_STAT by other", msgctl(q, IPC_STAT, &mds));
    struct msg { long type; char c[4]; } m = {1, "abc"};
    SHOW("msgsnd by other", msgsnd(q, &m, 4, 0));
    _exit(0);
  }
  printf("child exit %d\n", child_status(pid));
  // (Raising msg_qbytes above MSGMNB needs CAP_SYS_RESOURCE, which test hosts may lack: only
  // the owner's case without it is compared.)
  struct msqid_ds mds;
  msgctl(q, IPC_STAT, &mds);
  mds.msg_perm.uid = 1000;
  SHOW("give queue to 1000", msgctl(q, IPC_SET, &mds));
  pid = fork();
  if (pid == 0) {
    if (setuid(1000)) _exit(97);
    mds.msg_qbytes = 20000;
    SHOW("raise qbytes as owner", msgctl(q, IPC_SET, &mds));
    mds.msg_qbytes = 100;
    SHOW("lower qbytes as owner", msgctl(q, IPC_SET, &mds));
    SHOW("IPC_RMID as owner", msgctl(q, IPC_RMID, NULL));
    _exit(0);
  }
  printf("child exit %d\n", child_status(pid));
  shmctl(shm, IPC_RMID, NULL);
  semctl(sem, 0, IPC_RMID);
}

// Prints a /proc/sysvipc file, the digits of the time columns (1-based `t1`..`t3`) masked.
static void show_proc(const char *name, int t1, int t2, int t3) {
  char path[64], line[512];
  snprintf(path, sizeof path, "/proc/sysvipc/%s", name);
  FILE *f = fopen(path, "r");
  if (!f) {
    printf("%s: %s\n", path, ename(errno));
    return;
  }
  while (fgets(line, sizeof line, f)) {
    int col = 0;
    for (char *c = line; *c;) {
      while (*c == ' ') c++;
      if (!*c || *c == '\n') break;
      col++;
      char *start = c;
      while (*c && *c != ' ' && *c != '\n') c++;
      int masked = (col == t1 || col == t2 || col == t3) && !strstr(line, "key");
      if (masked && !(c - start == 1 && *start == '0'))
        for (char *d = start; d < c; d++) *d = '#';
    }
    fputs(line, stdout);
  }
  fclose(f);
}

// /proc/sysvipc with one object of each kind (a segment nobody touched: rss 0).
static void proc_part(void) {
  printf("== /proc/sysvipc\n");
  int shm = shmget(0x4242, 5000, IPC_CREAT | 0640);
  char *p = shmat(shm, NULL, SHM_RDONLY);
  int sem = semget(0x4343, 4, IPC_CREAT | 0604);
  struct sembuf up = {2, 1, 0};
  semop(sem, &up, 1);
  int q = msgget(0x4444, IPC_CREAT | 0620);
  struct msg { long type; char c[8]; } m = {3, "seven!"};
  msgsnd(q, &m, 7, 0);
  show_proc("shm", 12, 13, 14);
  show_proc("sem", 9, 10, 0);
  show_proc("msg", 12, 13, 14);
  shmdt(p);
  shmctl(shm, IPC_RMID, NULL);
  semctl(sem, 0, IPC_RMID);
  msgctl(q, IPC_RMID, NULL);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  shm_part();
  sem_part();
  msg_part();
  perm_part();
  thread_part();
  proc_part();
  return 0;
}
