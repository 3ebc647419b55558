/*
 * The first program tsvisor runs: no libc, only syscalls the kernel answers today. The exit
 * status encodes what it saw, so the test can check each answer:
 *   getpid() == 1 (pid 1 of the sandbox)          -> +1
 *   getppid() == 0 (nobody above pid 1)           -> +2
 *   syscall 100000 == -ENOSYS                     -> +4
 *   uname(&u) == 0 and u.sysname == "Linux"       -> +8
 *   uname((void *)8) == -EFAULT                   -> +16
 *   argc == 3 and argv[2] == "two"                -> +32
 * It also writes "first light\n" to stdout; the result of that write is its own byte of the
 * exit status's neighbour: 64 is added when write answered 12.
 */
#define SYS_write 1
#define SYS_getpid 39
#define SYS_uname 63
#define SYS_getppid 110
#define SYS_exit_group 231

static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

struct utsname { char f[6][65]; };

static int streq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

__attribute__((used)) static void start_c(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  int status = 0;
  if (sys3(SYS_getpid, 0, 0, 0) == 1) status += 1;
  if (sys3(SYS_getppid, 0, 0, 0) == 0) status += 2;
  if (sys3(100000, 0, 0, 0) == -38) status += 4;
  struct utsname u;
  if (sys3(SYS_uname, (long)&u, 0, 0) == 0 && streq(u.f[0], "Linux")) status += 8;
  if (sys3(SYS_uname, 8, 0, 0) == -14) status += 16;
  if (argc == 3 && streq(argv[2], "two")) status += 32;
  if (sys3(SYS_write, 1, (long)"first light\n", 12) == 12) status += 64;
  sys3(SYS_exit_group, status, 0, 0);
  for (;;) {}
}

__asm__(".globl _start\n_start:\n mov %rsp, %rdi\n and $-16, %rsp\n call start_c\n hlt\n");
