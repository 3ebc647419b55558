// @tsvisor/netstack has no code yet; see README.md.
export {};
