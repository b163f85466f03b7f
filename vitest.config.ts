import { defineConfig } from 'vitest/config';

// Test tiers (docs/testing.md): *.test.ts beside the code (unit), *.int.test.ts (spawns processes),
// suites/** (the harness suites bound to the local stack).
export default defineConfig({
  test: {
    include: [
      'redirector/**/*.test.ts',
      'harness/**/*.test.ts',
      'cli/**/*.test.ts',
      'fixtures/**/*.test.ts',
      'bench/**/*.test.ts',
      'suites/**/*.test.ts',
    ],
    exclude: ['node_modules/**', 'dist/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    coverage: {
      provider: 'v8',
      include: ['redirector/src/**/*.ts'],
      exclude: ['redirector/src/**/*.test.ts'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: { lines: 95 },
    },
  },
});
