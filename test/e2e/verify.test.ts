/**
 * `--verify` and `v2v verify` failing the way they must (the passing
 * `--verify` run is the Debian conversion of convert-vmx.test.ts):
 * - the unconverted VMware fixture disk handed to `v2v verify` boots on
 *   virtio-blk with no storage driver for it: exit 7, the console line
 *   "Gave up waiting for root", the console saved where --console-log says;
 *   the disk untouched, no qemu and no temp file left;
 * - a conversion whose target is corrupted between copy and check (the
 *   V2V_TEST_CORRUPT_TARGET test hook) fails `--verify=checksum` with exit 5
 *   and leaves no target. It converts the minimal Ubuntu guest of
 *   build-minimal-guests.sh (stand-in tools, not bootable: one appliance
 *   launch, so the cheapest real conversion there is).
 *
 * Cost: one TCG boot to the initramfs' give-up (~50 s), one minimal conversion (~40 s).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFixture, runCachedBuild } from '../helpers/fixture.js';
import { eventErrors } from '../helpers/machine-readable-schema.js';
import { splitOutputDir } from '../helpers/run-log.js';
import { runV2v, sha256 } from '../helpers/v2v.js';

const MINUTE = 60_000;
const MINIMAL_GUESTS = fileURLToPath(new URL('../fixtures/build-minimal-guests.sh', import.meta.url));

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'v2v-e2e-verify-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** qemu processes whose command line mentions `text`. */
async function qemusMentioning(text: string): Promise<string[]> {
  const ps = await execa('ps', ['-eo', 'pid=,args='], { reject: false });
  return String(ps.stdout)
    .split('\n')
    .filter((l) => l.includes('qemu-system') && l.includes(text));
}

describe('v2v verify on the unconverted VMware disk', () => {
  it(
    'fails with exit 7 and the console line that decided, leaving the disk and the host as they were',
    async () => {
      const fixture = await ensureFixture();
      const before = await sha256(fixture.vmdk);
      const tmp = await mkdtemp(join(work, 'tmp-'));
      const log = join(work, 'unconverted.verify-console.log');
      const r = await runV2v(['verify', fixture.vmdk, '--console-log', log], { TMPDIR: tmp });
      console.log(`v2v verify (unconverted disk): exit ${r.exitCode} in ${r.seconds.toFixed(1)} s`);
      expect(r.exitCode, r.stderr).toBe(7);
      expect(r.stdout).toMatch(/Booting guest \(1 disk\(s\), bios\) under (tcg|kvm).* with no network device/);
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('v2v: error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(
        /^v2v: error: The guest guest did not boot: its console showed "Gave up waiting for root[^"]*" after \d+ s; the whole console is in /,
      );
      expect(errors[0]).toContain(log);
      expect(r.stderr).toMatch(/Last 15 console lines:\n( {2}\| .*\n)+/);
      expect(await readFile(log, 'utf8')).toContain('Gave up waiting for root');
      expect(await sha256(fixture.vmdk)).toBe(before);
      expect(await readdir(tmp)).toEqual([]); // overlays and their directory removed
      expect(await qemusMentioning(tmp)).toEqual([]);
    },
    12 * MINUTE,
  );

  it('refuses what it cannot check: a missing disk (exit 4), --firmware with an XML (exit 2)', async () => {
    const missing = await runV2v(['verify', join(work, 'nope.qcow2')]);
    expect(missing.exitCode).toBe(4);
    expect(missing.stderr).toContain(`v2v: error: Cannot open the disk ${join(work, 'nope.qcow2')}`);
    const both = await runV2v(['verify', join(work, 'g.xml'), '--firmware', 'uefi']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('--firmware only applies to disks given directly');
  });

  it('refuses a -o kubevirt VirtualMachine whose hostDisk is qcow2 (KubeVirt reads it as raw: exit 4), and --firmware with it (exit 2)', async () => {
    const disk = join(work, 'kv-sda');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
    const yaml = join(work, 'kv.yaml');
    await writeFile(
      yaml,
      [
        'apiVersion: kubevirt.io/v1',
        'kind: VirtualMachine',
        'metadata: {name: kv}',
        'spec:',
        '  runStrategy: Halted',
        '  template:',
        '    spec:',
        '      domain:',
        '        devices: {disks: [{name: disk0, disk: {bus: virtio}, bootOrder: 1}]}',
        `      volumes: [{name: disk0, hostDisk: {path: ${JSON.stringify(disk)}, type: Disk}}]`,
        '',
      ].join('\n'),
    );
    const qcow2 = await runV2v(['verify', yaml]);
    expect(qcow2.exitCode, qcow2.stderr).toBe(4);
    expect(qcow2.stderr).toContain(`v2v: error: The disk ${disk} of ${yaml} is qcow2, but KubeVirt reads a hostDisk volume as raw`);
    const firmware = await runV2v(['verify', yaml, '--firmware', 'bios']);
    expect(firmware.exitCode).toBe(2);
    expect(firmware.stderr).toContain(`--firmware only applies to disks given directly: the YAML ${yaml} says its own firmware.`);
  });
});

describe('--verify=checksum on a target corrupted between copy and check (V2V_TEST_CORRUPT_TARGET)', () => {
  it(
    'fails the copy with exit 5 and removes the target',
    async () => {
      const guests = await runCachedBuild(MINIMAL_GUESTS);
      const disk = join(guests, 'ubuntu.img');
      const before = await sha256(disk);
      const out = await mkdtemp(join(work, 'out-'));
      const events = join(work, 'corrupt.events.jsonl');
      const r = await runV2v(
        [
          '-i',
          'disk',
          disk,
          '-if',
          'raw',
          '-o',
          'local',
          '-os',
          out,
          '-of',
          'qcow2',
          '-on',
          'guest',
          '--verify=checksum',
          `--machine-readable=file:${events}`,
        ],
        { V2V_TEST_CORRUPT_TARGET: '1' },
      );
      console.log(`corrupted target: exit ${r.exitCode} in ${r.seconds.toFixed(1)} s`);
      expect(r.exitCode, r.stderr).toBe(5);
      expect(r.stderr).toContain(`v2v: test hook: corrupted ${join(out, 'guest-sda.v2v-partial')}`);
      expect(r.stderr).toMatch(
        new RegExp(
          `v2v: error: Disk 1 copied to ${join(out, 'guest-sda')} differs from the converted image \\(qemu-img compare: Content mismatch at offset 1048576!\\), so the copy is corrupt and was removed: check the target storage`,
        ),
      );
      // The stage ran after the copy, and the output stage never started.
      expect(r.stdout).toMatch(
        /✔ \[[\d:]+\] Copied disk 1\/1[^]*❯ \[[\d:]+\] Verifying the converted guest\n› \[[\d:]+\] comparing every target disk with the converted image/,
      );
      expect(r.stdout).not.toContain('Creating output metadata');
      const { files, log } = await splitOutputDir(out, 'guest');
      expect(files).toEqual([]); // the corrupt copy removed; only the run's log is kept
      expect(await readFile(log, 'utf8')).toContain('so the copy is corrupt and was removed');
      expect(await sha256(disk)).toBe(before);
      // The events say so too: the verify stage failed, and the result carries the failed checksum.
      const lines = (await readFile(events, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const line of lines) expect(eventErrors(line), JSON.stringify(line)).toEqual([]);
      // The validator is not vacuous: the same result with a status the schema does not know is refused.
      expect(eventErrors({ ...lines.at(-1), verify: { checksum: { status: 'corrupt', seconds: 1, disks: 1 } } })).toEqual([
        '/verify/checksum/status must be equal to one of the allowed values',
      ]);
      expect(lines).toContainEqual(expect.objectContaining({ type: 'message', stage: 'verify', phase: 'failed' }));
      expect(lines.at(-1)).toMatchObject({ type: 'result', exitCode: 5, files: [], verify: { checksum: { status: 'failed', disks: 1 } } });
    },
    10 * MINUTE,
  );
});
