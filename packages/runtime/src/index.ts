// @tsvisor/runtime has no code yet; see README.md.
export {};
