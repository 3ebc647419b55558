// @tsvisor/cli has no code yet; see README.md.
export {};
