// @tsvisor/mm has no code yet; see README.md.
export {};
