/* Prints where the kernel put an rt signal frame relative to the interrupted stack pointer,
 * and the FP-state software bytes it wrote, so tsvisor's frame builder can be compared. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static void handler(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
  uintptr_t frame = (uintptr_t)uc - 8; /* pretcode sits just below uc */
  uintptr_t rsp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
  unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
  uint32_t magic1, ext, xsz, magic2;
  uint64_t xfeat;
  memcpy(&magic1, fp + 464, 4);
  memcpy(&ext, fp + 468, 4);
  memcpy(&xfeat, fp + 472, 8);
  memcpy(&xsz, fp + 480, 4);
  memcpy(&magic2, fp + xsz, 4);
  printf("%lx %lu %lu %lu %lu %u %u %lu %u %u %d %d\n", (unsigned long)rsp, (unsigned long)(rsp - frame),
         (unsigned long)((uintptr_t)fp - frame), (unsigned long)((uintptr_t)si - frame), uc->uc_flags, magic1, ext,
         (unsigned long)xfeat, xsz, magic2, uc->uc_stack.ss_flags, sig);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, 0);
  raise(SIGUSR1);
  return 0;
}
