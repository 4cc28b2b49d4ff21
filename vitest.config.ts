/**
 * Test layout: test/unit/** (fast, pure), test/sim/** (whole clusters on
 * simulated time, milliseconds each) and test/netns/** (network
 * namespaces, real heartbeat 3.0.6: slow, seconds to minutes per test).
 * The machine has 2 cores: at most 2 test files run at once, each in its own
 * forked process (signal handlers of the netns harness need a real process).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
    teardownTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          // whole clusters of assembled nodes on simulated time (test/sim/)
          name: 'sim',
          include: ['test/sim/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'netns',
          include: ['test/netns/**/*.test.ts'],
          // removes labs left by a killed earlier run, and once more at the end
          globalSetup: ['test/netns/harness/global-setup.ts'],
          // real heartbeat needs initdead + RQSTDELAY (~12 s) before it holds
          // resources, and a partition heal restarts it (~30 s)
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
