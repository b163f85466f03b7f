import { defineConfig } from 'vitest/config';

// Test tiers (docs/testing.md), one vitest project each, named by the file name:
//   unit    *.test.ts beside the code: no processes, no network beyond 127.0.0.1 servers the test starts itself
//   int     *.int.test.ts: spawn processes (the local stack, the redirector, clients); slower, own timeouts
//   suites  suites/**/*.test.ts: the harness suites bound to ONE local stack that the global setup starts and
//           provides (suites/support/global-setup.ts; REGISTRY_CANARY_TARGET_CONFIG binds them to another target)
// `vitest run` runs all three; `vitest run --project unit` (npm run test:unit) only the first.
const excluded = ['node_modules/**', 'dist/**'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    coverage: {
      provider: 'v8',
      include: ['redirector/src/**/*.ts'],
      exclude: ['redirector/src/**/*.test.ts', 'redirector/src/**/*.test-support.ts'],
      reporter: ['text-summary', 'json-summary'],
      thresholds: { lines: 95 },
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'redirector/**/*.test.ts',
            'harness/**/*.test.ts',
            'cli/**/*.test.ts',
            'fixtures/**/*.test.ts',
            'bench/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
          exclude: [...excluded, '**/*.int.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'int',
          include: [
            'redirector/**/*.int.test.ts',
            'harness/**/*.int.test.ts',
            'cli/**/*.int.test.ts',
            'bench/**/*.int.test.ts',
            'suites/**/*.int.test.ts',
          ],
          exclude: [...excluded, 'suites/resilience/**'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'suites',
          include: ['suites/**/*.test.ts'],
          exclude: [...excluded, '**/*.int.test.ts', 'suites/resilience/**'],
          globalSetup: ['suites/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
      {
        // suites/resilience (docs/reliability.md): faults, load and hostile input against ONE local stack
        // of its own. Its figures are latencies and memory, so it runs alone: after every other project (groupOrder)
        // and one file at a time (maxWorkers). RESILIENCE_SOAK=1 (npm run soak) selects the long versions.
        extends: true,
        test: {
          name: 'resilience',
          include: ['suites/resilience/**/*.int.test.ts'],
          exclude: excluded,
          globalSetup: ['suites/resilience/support/global-setup.ts'],
          sequence: { groupOrder: 1 },
          maxWorkers: 1,
          testTimeout: process.env.RESILIENCE_SOAK === '1' ? 1_800_000 : 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
