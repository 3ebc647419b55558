// @tsvisor/syscalls has no code yet; see README.md.
export {};
