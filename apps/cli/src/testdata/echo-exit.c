/*
 * Without libc: writes its arguments after argv[1] to stdout, one per line, then its cwd-free
 * environment check, and exits with the number in argv[1]. Used to check the command line's
 * argument passing, --env and the exit status.
 *   echo-exit 42 a b    prints "a\nb\n" and exits 42
 * When the environment has TSVISOR_CLI_TEST, its value is printed last as "env=<value>".
 * It first makes syscall 100000, which no kernel has (ENOSYS; tsvisor logs it).
 */
#define SYS_write 1
#define SYS_exit_group 231

static long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

static long len(const char *s) {
  long n = 0;
  while (s[n]) n++;
  return n;
}

static void put(const char *s) {
  sys3(SYS_write, 1, (long)s, len(s));
}

static const char *prefixed(const char *s, const char *p) {
  while (*p && *s == *p) s++, p++;
  return *p ? 0 : s;
}

__attribute__((used)) static void start_c(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  int code = 0;
  sys3(100000, 0, 0, 0);
  for (const char *p = argc > 1 ? argv[1] : ""; *p >= '0' && *p <= '9'; p++) code = code * 10 + (*p - '0');
  for (long i = 2; i < argc; i++) {
    put(argv[i]);
    put("\n");
  }
  for (char **e = envp; *e; e++) {
    const char *v = prefixed(*e, "TSVISOR_CLI_TEST=");
    if (v) {
      put("env=");
      put(v);
      put("\n");
    }
  }
  sys3(SYS_exit_group, code, 0, 0);
  for (;;) {}
}

__asm__(".globl _start\n_start:\n mov %rsp, %rdi\n and $-16, %rsp\n call start_c\n hlt\n");
