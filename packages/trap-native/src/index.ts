// @tsvisor/trap-native has no code yet; see README.md.
export {};
