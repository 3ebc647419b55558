/**
 * Numbers of the syscalls the runtime makes on the host through a stub, or recognises in the trap
 * loop: read from `@tsvisor/abi`'s table, so each is written down once for the whole project.
 *
 * @module
 */
import { syscallByName } from '@tsvisor/abi';

function nr(name: string): number {
  const info = syscallByName(name);
  // The table is fixed at build time: a missing name is a typo here, a bug.
  if (!info) throw new Error(`@tsvisor/abi has no syscall named ${name}`);
  return info.nr;
}

export const NR_CLOSE = nr('close');
export const NR_MMAP = nr('mmap');
export const NR_MPROTECT = nr('mprotect');
export const NR_MUNMAP = nr('munmap');
export const NR_MREMAP = nr('mremap');
export const NR_MADVISE = nr('madvise');
export const NR_MINCORE = nr('mincore');
export const NR_IOCTL = nr('ioctl');
export const NR_RT_SIGRETURN = nr('rt_sigreturn');
export const NR_EXECVE = nr('execve');
export const NR_EXECVEAT = nr('execveat');
export const NR_EXIT = nr('exit');
export const NR_EXIT_GROUP = nr('exit_group');
