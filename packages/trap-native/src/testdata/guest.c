/*
 * Guest program for the trap-native tests: static, no libc, raw system calls only, so the test
 * can load it with a few injected mmaps. The test selects a scenario with rdi at entry and
 * observes it through REPORT, a system call number Linux does not have (the test answers it).
 */
#define REPORT 1000
#define SYS_mmap 9
#define SYS_getpid 39
#define SYS_clone 56
#define SYS_fork 57
#define SYS_exit 60
#define SYS_getppid 110
#define SYS_exit_group 231

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
  return ret;
}
static long sys1(long n, long a) { return sys6(n, a, 0, 0, 0, 0, 0); }
static long report(long tag, long value) { return sys6(REPORT, tag, value, 0, 0, 0, 0); }
static void __attribute__((noreturn)) exit_group(long code) {
  sys1(SYS_exit_group, code);
  for (;;) {
  }
}

char message[64] = "hello from the guest";
volatile long shared = 1;
static char thread_stack[16384] __attribute__((aligned(16)));

/* clone(flags, stack) that runs fn on the new stack in the child and exits it. */
static long spawn_thread(long flags, void* stack_top, void (*fn)(void)) {
  long ret;
  __asm__ volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "call *%%rbx\n\t"
      "mov $60, %%eax\n\t"
      "xor %%edi, %%edi\n\t"
      "syscall\n\t"
      "ud2\n"
      "1:"
      : "=a"(ret)
      : "a"(SYS_clone), "D"(flags), "S"(stack_top), "d"(0), "b"(fn)
      : "rcx", "r11", "r10", "r8", "r9", "memory");
  return ret;
}

static void thread_main(void) {
  shared = 42;
  report(20, (long)&shared);
}

long cmain(long mode) {
  switch (mode) {
    case 1: { /* getppid answered by the supervisor */
      long p = sys1(SYS_getppid, 0);
      report(1, p);
      exit_group(p == 4242 ? 0 : 1);
    }
    case 2: { /* memory: the supervisor reads message, rewrites it, we report what we see */
      report(2, (long)message);
      long sum = 0;
      for (int i = 0; i < 5; i++) sum = sum * 256 + (unsigned char)message[i];
      report(3, sum);
      exit_group(0);
    }
    case 3: { /* the supervisor maps memory for us; we use it */
      long* p = (long*)report(4, 0);
      long v = p[0];
      p[1] = v * 2;
      report(5, p[1]);
      exit_group(0);
    }
    case 4: { /* fork followed by the supervisor */
      long child = sys1(SYS_fork, 0);
      if (child == 0) {
        shared = 2;
        report(10, shared);
        exit_group(7);
      }
      report(11, shared);
      report(12, child);
      exit_group(0);
    }
    case 5: { /* a thread followed by the supervisor */
      long flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000;
      long tid = spawn_thread(flags, thread_stack + sizeof thread_stack, thread_main);
      report(21, tid);
      report(22, shared);
      exit_group(0);
    }
    case 6: { /* a fault at a known address */
      *(volatile long*)0x5000 = 5;
      report(30, *(volatile long*)0x5000);
      exit_group(0);
    }
    case 11: { /* an invalid instruction */
      __asm__ volatile("ud2");
      exit_group(0);
    }
    case 7: { /* many trapped calls */
      long n = report(40, 0);
      long bad = 0;
      for (long i = 0; i < n; i++)
        if (sys1(SYS_getppid, 0) != 4242) bad++;
      exit_group(bad ? 1 : 0);
    }
    case 8: { /* run without system calls for a while, then report */
      volatile unsigned long x = 0;
      long n = report(50, 0);
      for (long i = 0; i < n; i++) x += i;
      report(51, (long)x);
      exit_group(0);
    }
    case 9: { /* block in a system call the supervisor never answers */
      report(60, 0);
      sys1(SYS_getpid, 0);
      exit_group(0);
    }
    case 10: { /* xmm0 round trip: the supervisor reads 1.5 and replaces it */
      double in = 1.5, out = 0;
      long ret;
      __asm__ volatile(
          "movsd %2, %%xmm0\n\t"
          "syscall\n\t"
          "movsd %%xmm0, %1\n\t"
          : "=a"(ret), "=m"(out)
          : "m"(in), "a"(REPORT), "D"(70), "S"(0)
          : "rcx", "r11", "xmm0", "memory");
      report(71, (long)(out * 1000));
      exit_group(0);
    }
  }
  exit_group(99);
}

__asm__(
    ".globl _start\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  and $-16, %rsp\n"
    "  call cmain\n"
    "  ud2\n");
