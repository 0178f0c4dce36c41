/**
 * How long the boot check waits. Its own module: `v2v verify --help` states
 * the timeouts, and help loads no qemu driver.
 *
 * The test guest (Debian 12, 2 GiB) reaches its login prompt in ~25-35 s
 * under TCG on this 2-core machine; a guest that neither boots nor fails
 * visibly (a hang at a boot menu, a console the guest does not use) is given
 * {@link BOOT_TIMEOUT_MS} before the check reports a timeout.
 */

/** Boot-check timeouts: ~4x the KVM allowance under TCG, which runs the test guest ~4x slower. */
export const BOOT_TIMEOUT_MS = { kvm: 120_000, tcg: 480_000 } as const;

/**
 * A guest whose serial console stays completely silent this long fails early:
 * the kernel (console=ttyS0) talks within ~10 s of power-on under TCG here,
 * so silence means the bootloader never started it (or it does not use the
 * serial port).
 */
export const SILENCE_TIMEOUT_MS = { kvm: 45_000, tcg: 150_000 } as const;
