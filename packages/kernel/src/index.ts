// @tsvisor/kernel has no code yet; see README.md.
export {};
