import { defineConfig } from 'vitest/config';

// `npm test` = `vitest run`. Suites import lib/*.ts directly (no build step besides the addon);
// lib/native.ts finds the addon from the package root (build/Release or prebuilds/).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', 'build/**', 'build-*/**'],
    // Child processes, not worker threads: a native crash takes down one fork with a clear error,
    // and the addon's own thread pool does not share a process with vitest's workers.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
