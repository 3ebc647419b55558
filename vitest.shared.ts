import type { UserWorkspaceConfig } from 'vitest/config';

/**
 * Test settings shared by every package. The `@tsvisor/source` condition makes a package's
 * imports of other tsvisor packages resolve to their TypeScript sources, so tests see the
 * current code of the whole tree, not a stale build.
 */
export const shared: UserWorkspaceConfig = {
  resolve: { conditions: ['@tsvisor/source'] },
  ssr: { resolve: { conditions: ['@tsvisor/source'], externalConditions: ['@tsvisor/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
};
