// @tsvisor/procfs has no code yet; see README.md.
export {};
