// Types of load.cjs (plain JavaScript, so that it runs before anything is built or bundled).

/** The files of a bundle. */
export interface BundleFiles {
  readonly code: string;
  readonly cache: string;
  readonly stamps: string;
}

/** What a stamp records of one input file. */
export interface Stamp {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
}

/** The V8 flags the command starts Node with (the #! line of bin/tsvisor.cjs). */
export const COMMAND_FLAGS: readonly string[];
/** Variables the #! line keeps from Node's start, each with the name that carries its value. */
export const HELD_ENV: Readonly<Record<string, string>>;
/** Puts the held variables back in `env` (default `process.env`) and drops their carriers. */
export function restoreHeldEnv(env?: NodeJS.ProcessEnv): void;
export function bundleFiles(dist?: string, execArgv?: readonly string[]): BundleFiles;
export function stampOf(path: string): Stamp;
export function bundleIsFresh(files?: BundleFiles): boolean;
export function loadBundle(
  files?: BundleFiles,
  encoding?: 'utf8' | 'latin1',
): {
  exports: Record<string, unknown>;
  cache: 'accepted' | 'rejected' | 'none';
  writeCache: () => void;
};
export function loadMain(env?: NodeJS.ProcessEnv): Promise<{
  main: (argv: string[]) => Promise<number>;
  done: () => void;
}>;
