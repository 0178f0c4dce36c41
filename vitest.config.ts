import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Runs with -o null and -o libvirt write their log to a log directory
    // (/var/log/v2v for root): the suite's go here instead (src/progress/run-log.ts).
    env: { V2V_LOG_DIR: '/var/tmp/v2v-test-logs' },
    // docs/testing.md: unit starts no process and runs files in parallel;
    // integration and e2e run the built CLI, so they build dist/ first
    // (test/helpers/build.ts), and run one file after another: the e2e files
    // each start a libguestfs appliance or boot qemu, and on a 2-core machine
    // they are faster one after another than fighting. The projects run one
    // after another too (groupOrder).
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/build.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/build.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
