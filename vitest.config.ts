import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // End-to-end files each start a libguestfs appliance or boot qemu; on a
    // 2-core machine they are faster one after another than fighting.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Runs with -o null and -o libvirt write their log to a log directory
    // (/var/log/v2v for root): the suite's go here instead (src/progress/run-log.ts).
    env: { V2V_LOG_DIR: '/var/tmp/v2v-test-logs' },
  },
});
