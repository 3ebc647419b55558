// @tsvisor/vfs has no code yet; see README.md.
export {};
