/**
 * -o null and -o qemu against the real tools: qemu-img 7.2 copies into the
 * null sink that nullOutput plans (only with `convert -n`), and the launcher
 * that qemuOutput writes is accepted by the real qemu-system-x86_64.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testSource } from '../helpers/source.js';
import type { GuestCaps, Inspection, Source, Overlay } from '../../src/model.js';
import { nullOutput } from '../../src/output/null.js';
import { launcherArgs, qemuOutput } from '../../src/output/qemu.js';
import { hasOvmf } from '../helpers/libvirtd.js';

const MiB = 2 ** 20;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'v2v-null-qemu-e2e-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function overlayWithData(name: string, virtualSize: number): Promise<Overlay> {
  const path = join(work, name);
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', path, String(virtualSize)]);
  await execa('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 0 8M', path]);
  return { path, backingFormat: 'raw', virtualSize, disk: { path: '/src.img', bus: 'scsi', controller: 0, unit: 0 } };
}

describe('-o null with real qemu-img', () => {
  it("copies every disk into the null sink with convert -n, also past null-co's 1 GiB default", async () => {
    const overlays = [await overlayWithData('small.qcow2', 64 * MiB), await overlayWithData('big.qcow2', 3 * 2 ** 30)];
    const targets = nullOutput().planDisks('g', overlays);
    for (const target of targets) {
      const result = await execa(
        'qemu-img',
        ['convert', '-p', '-n', '-W', '-m', '8', '-f', 'qcow2', '-O', target.format, target.overlay, target.path],
        { reject: false },
      );
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain('(100.00/100%)');
    }
  });

  it('cannot be created, so the copy stage must pass -n and no -o options', async () => {
    const [target] = nullOutput().planDisks('g', [await overlayWithData('o.qcow2', 16 * MiB)]);
    const create = await execa('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', target!.overlay, target!.path], { reject: false });
    expect(create.exitCode).not.toBe(0);
    expect(create.stderr).toMatch(/Unknown protocol 'json'/);
    const options = await execa(
      'qemu-img',
      ['convert', '-n', '-f', 'qcow2', '-O', 'raw', '-o', 'preallocation=falloc', target!.overlay, target!.path],
      { reject: false },
    );
    expect(options.stderr).toMatch(/-o has no effect when skipping image creation/);
  });
});

describe('-o qemu launcher with real qemu-system-x86_64', () => {
  const caps: GuestCaps = { blockBus: 'virtio', netModel: 'virtio', machine: 'q35', domainType: 'qemu', serialConsole: true };
  const inspection = { type: 'linux' } as Inspection;

  /** Writes the launcher for a guest with one 16 MiB raw disk, runs it paused (-S) and checks qemu accepted every option. */
  async function launch(firmware: Source['firmware']): Promise<string> {
    const dir = await mkdtemp(join(work, 'out, with "odd" name $x-'));
    const output = qemuOutput({ storage: dir, format: 'raw', allocation: 'sparse', userNetwork: true });
    const [target] = output.planDisks('g', [await overlayWithData(`o-${firmware}.qcow2`, 16 * MiB)]);
    await output.preflight('g', [target!], 16 * MiB);
    await execa('qemu-img', ['create', '-q', '-f', 'raw', target!.path, String(16 * MiB)]);
    const source = testSource({ name: 'g', memoryMiB: 64, vcpus: 1, firmware, nics: [{ mac: '52:54:00:00:00:01' }] });
    const [script] = await output.finish({ name: 'g', source, inspection, caps, targets: [target!] });
    // qemu exits at once on a bad option; still running after 3 s means it took them all.
    const child = execa(script!, ['-display', 'none', '-S', '-monitor', 'none'], { reject: false, stdin: 'ignore' });
    const exited = await Promise.race([child.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000))]);
    if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    const result = await child;
    expect(exited, `qemu exited early: ${String(result.stderr)}`).toBe(false);
    return dir;
  }

  it('starts a BIOS guest with its virtio disk and a user-mode NIC', async () => {
    await launch('bios');
  }, 30_000);

  /** Starts qemu-system-x86_64 paused with `args`; resolves to undefined when it took them all (still running after 3 s), else its stderr. */
  async function startsPaused(args: string[]): Promise<string | undefined> {
    const child = execa('qemu-system-x86_64', [...args, '-display', 'none', '-S', '-monitor', 'none'], { reject: false, stdin: 'ignore' });
    const exited = await Promise.race([child.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000))]);
    if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    const result = await child;
    return exited ? String(result.stderr) : undefined;
  }

  it('starts a guest with 1, 6, 7 and 13 SATA disks (a Windows guest without virtio-win); if=ide stops at 6 on q35', async () => {
    const paths: string[] = [];
    for (let i = 0; i < 13; i++) {
      paths.push(join(work, `sata-${i}.raw`));
      await execa('qemu-img', ['create', '-q', '-f', 'raw', paths[i]!, String(MiB)]);
    }
    const sata: GuestCaps = { ...caps, blockBus: 'sata', serialConsole: false };
    const source = testSource({ name: 'w', memoryMiB: 64, vcpus: 1 });
    for (const count of [1, 6, 7, 13]) {
      const targets = paths.slice(0, count).map((path) => ({ overlay: '', path, format: 'raw' as const, virtualSize: MiB, dev: 'sda' }));
      const args = launcherArgs({
        name: 'w',
        source,
        inspection: { type: 'windows' } as Inspection,
        caps: sata,
        targets,
        varsPath: '',
        userNetwork: false,
      });
      expect(await startsPaused(args.flat()), `${count} SATA disks`).toBeUndefined();
    }
    // What the launcher wrote before: if=ide, which q35 maps to its one AHCI controller's 6 ports.
    const ide = (count: number): string[] => paths.slice(0, count).flatMap((path) => ['-drive', `file=${path},format=raw,if=ide`]);
    expect(await startsPaused(['-machine', 'q35', '-accel', 'tcg', '-nodefaults', ...ide(6)])).toBeUndefined();
    expect(await startsPaused(['-machine', 'q35', '-accel', 'tcg', '-nodefaults', ...ide(7)])).toMatch(
      /machine type does not support if=ide,bus=6,unit=0/,
    );
  }, 60_000);

  it.skipIf(!hasOvmf())(
    'starts a UEFI guest and creates its variable store from the OVMF template',
    async () => {
      const dir = await launch('uefi');
      expect(existsSync(join(dir, 'g-VARS.fd'))).toBe(true);
    },
    30_000,
  );
});
