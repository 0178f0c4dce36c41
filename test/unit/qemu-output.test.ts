import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testSource } from '../helpers/source.js';
import { PreflightError } from '../../src/errors.js';
import type { GuestCaps, Inspection, Source, TargetDisk } from '../../src/model.js';
import { diskArgs, launcherArgs, OVMF, qemuOptionValue, qemuOutput, shellQuote, type LauncherInput } from '../../src/output/qemu.js';

const work = mkdtempSync(join(tmpdir(), 'v2v-qemu-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function source(overrides: Partial<Source> = {}): Source {
  return testSource({ name: 'g', memoryMiB: 1024, ...overrides });
}
const inspection = { type: 'linux' } as Inspection;
const tcg: GuestCaps = { blockBus: 'virtio', netModel: 'virtio', machine: 'q35', domainType: 'qemu', serialConsole: true };

function disk(path: string, format: TargetDisk['format'] = 'raw'): TargetDisk {
  return { overlay: '/tmp/o.qcow2', path, format, virtualSize: 2 ** 30, dev: 'vda' };
}

function launcher(overrides: Partial<LauncherInput> = {}): LauncherInput {
  return {
    name: 'g',
    source: source(),
    inspection,
    caps: tcg,
    targets: [disk('/out/g-sda')],
    varsPath: '/out/g-VARS.fd',
    userNetwork: false,
    ...overrides,
  };
}

describe('shellQuote', () => {
  it('leaves safe words alone and quotes everything else', () => {
    expect(shellQuote('/var/tmp/g-sda')).toBe('/var/tmp/g-sda');
    expect(shellQuote('file=/a,,b,format=raw')).toBe('file=/a,,b,format=raw');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('$(x)')).toBe(`'$(x)'`);
  });
});

describe('qemu launcher arguments', () => {
  it('doubles commas inside option values', () => {
    expect(qemuOptionValue('/a,b/c,,d')).toBe('/a,,b/c,,,,d');
  });
  it('runs a TCG BIOS guest with virtio disks, no network device and a serial console', () => {
    const input = launcher({
      targets: [disk('/out/g-sda'), disk('/out/g-sdb', 'qcow2')],
      source: source({ cpuTopology: { sockets: 1, cores: 2, threads: 1 } }),
    });
    expect(launcherArgs(input)).toEqual([
      ['-no-user-config'],
      ['-nodefaults'],
      ['-name', 'g'],
      ['-machine', 'q35'],
      ['-accel', 'tcg'],
      ['-cpu', 'max'],
      ['-m', '1024'],
      ['-smp', '2,sockets=1,cores=2,threads=1'],
      ['-drive', 'file=/out/g-sda,format=raw,if=virtio,discard=unmap'],
      ['-drive', 'file=/out/g-sdb,format=qcow2,if=virtio,discard=unmap'],
      ['-rtc', 'base=utc'],
      ['-device', 'VGA'],
      ['-serial', 'stdio'],
      ['-device', 'virtio-rng-pci'],
      ['-device', 'virtio-balloon-pci'],
    ]);
    expect(launcherArgs(input).flat()).not.toContain('-netdev');
  });
  it('uses KVM with the host CPU, SATA (AHCI) disks and local time for a Windows guest when caps say so', () => {
    const args = launcherArgs(
      launcher({
        caps: { ...tcg, domainType: 'kvm', blockBus: 'sata', serialConsole: false },
        inspection: { type: 'windows' } as Inspection,
      }),
    );
    expect(args).toContainEqual(['-accel', 'kvm']);
    expect(args).toContainEqual(['-cpu', 'host']);
    expect(args).toContainEqual(['-drive', 'file=/out/g-sda,format=raw,if=none,id=disk0,discard=unmap']);
    expect(args).toContainEqual(['-device', 'ide-hd,drive=disk0,bus=ide.0,bootindex=1']);
    expect(args.flat().join(' ')).not.toContain('if=ide');
    expect(args).toContainEqual(['-rtc', 'base=localtime']);
    expect(args.flat()).not.toContain('-serial');
  });
  it('puts SATA disks on the 6 ports of q35’s AHCI controller, then on one added AHCI controller per 6 more', () => {
    const targets = Array.from({ length: 13 }, (_, i) => disk(`/out/g-sd${String.fromCharCode(97 + i)}`));
    expect(diskArgs(targets, { blockBus: 'sata', machine: 'q35' })).toEqual([
      ['-device', 'ahci,id=sata1'],
      ['-device', 'ahci,id=sata2'],
      ...targets.flatMap((t, i) => {
        const bus = i < 6 ? `ide.${i}` : `sata${Math.floor(i / 6)}.${i % 6}`;
        return [
          ['-drive', `file=${t.path},format=raw,if=none,id=disk${i},discard=unmap`],
          ['-device', `ide-hd,drive=disk${i},bus=${bus}${i === 0 ? ',bootindex=1' : ''}`],
        ];
      }),
    ]);
    // Six fit on the built-in controller: nothing added.
    expect(
      diskArgs(targets.slice(0, 6), { blockBus: 'sata', machine: 'q35' })
        .filter(([o]) => o === '-device')
        .map(([, v]) => v),
    ).toEqual([0, 1, 2, 3, 4, 5].map((i) => `ide-hd,drive=disk${i},bus=ide.${i}${i === 0 ? ',bootindex=1' : ''}`));
    // The pc machine type has no AHCI controller of its own; its IDE keeps if=ide (4 places, checked before the copy).
    expect(diskArgs(targets.slice(0, 1), { blockBus: 'sata', machine: 'pc' })[0]).toEqual(['-device', 'ahci,id=sata0']);
    expect(diskArgs(targets.slice(0, 2), { blockBus: 'ide', machine: 'pc' })).toEqual([
      ['-drive', 'file=/out/g-sda,format=raw,if=ide,discard=unmap'],
      ['-drive', 'file=/out/g-sdb,format=raw,if=ide,discard=unmap'],
    ]);
  });
  it('adds user-mode NICs with the source MACs only when asked', () => {
    const nics = [{ mac: '00:50:56:aa:bb:01' }, {}];
    const args = launcherArgs(launcher({ source: source({ nics }), userNetwork: true, caps: { ...tcg, netModel: 'e1000' } }));
    expect(args).toContainEqual(['-netdev', 'user,id=net0']);
    expect(args).toContainEqual(['-device', 'e1000,netdev=net0,mac=00:50:56:aa:bb:01']);
    expect(args).toContainEqual(['-device', 'e1000,netdev=net1']);
    expect(launcherArgs(launcher({ source: source({ nics }) })).flat()).not.toContain('-netdev');
  });
  it('boots UEFI from OVMF with a per-guest variable store; secure boot adds SMM and the secure flash', () => {
    const uefi = launcherArgs(launcher({ source: source({ firmware: 'uefi' }), varsPath: '/out/a,b-VARS.fd' }));
    expect(uefi).toContainEqual(['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF.code}`]);
    expect(uefi).toContainEqual(['-drive', 'if=pflash,format=raw,unit=1,file=/out/a,,b-VARS.fd']);
    const secure = launcherArgs(launcher({ source: source({ firmware: 'uefi', secureBoot: true }) }));
    expect(secure).toContainEqual(['-machine', 'q35,smm=on']);
    expect(secure).toContainEqual(['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF.secureCode}`]);
    expect(secure).toContainEqual(['-global', 'driver=cfi.pflash01,property=secure,value=on']);
  });
  it('uses OVMF when inspection found an ESP although the source metadata said BIOS', () => {
    const detected = launcherArgs(launcher({ inspection: { type: 'linux', firmware: 'uefi' } as Inspection }));
    expect(detected).toContainEqual(['-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${OVMF.code}`]);
    expect(detected).toContainEqual(['-drive', 'if=pflash,format=raw,unit=1,file=/out/g-VARS.fd']);
    const bios = launcherArgs(launcher({ inspection: { type: 'linux', firmware: 'bios' } as Inspection }));
    expect(bios.flat().some((a) => a.includes('pflash'))).toBe(false);
  });
});

describe('qemuOutput', () => {
  const caps = tcg;
  it('plans disks like -o local and writes an executable NAME.sh', async () => {
    const dir = mkdtempSync(join(work, 'out-'));
    const output = qemuOutput({ storage: dir, format: 'qcow2', allocation: 'sparse' });
    const targets = output.planDisks('g', [
      { path: '/t/o1.qcow2', virtualSize: 5, backingFormat: 'vmdk', disk: { path: '/s.vmdk', bus: 'scsi', controller: 0, unit: 0 } },
    ]);
    expect(targets).toEqual([
      {
        overlay: '/t/o1.qcow2',
        path: join(dir, 'g-sda'),
        partialPath: join(dir, 'g-sda.v2v-partial'),
        format: 'qcow2',
        virtualSize: 5,
        dev: 'vda',
      },
    ]);
    await output.preflight('g', targets, 0);
    const written = await output.finish({ name: 'g', source: source(), inspection, caps, targets });
    expect(written).toEqual([join(dir, 'g.sh'), join(dir, 'g-sda')]);
    expect(statSync(join(dir, 'g.sh')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(dir, 'g.sh'), 'utf8')).toContain(`file=${dir}/g-sda,format=qcow2,if=virtio`);
  });
  it('refuses an existing NAME.sh or a stale NAME-VARS.fd in preflight', async () => {
    const dir = mkdtempSync(join(work, 'out-'));
    const output = qemuOutput({ storage: dir, format: 'raw', allocation: 'sparse' });
    writeFileSync(join(dir, 'g-VARS.fd'), '');
    await expect(output.preflight('g', [], 0)).rejects.toThrow(PreflightError);
    await expect(output.preflight('g', [], 0)).rejects.toThrow(/g-VARS.fd already exists: remove it, or choose another guest name/);
    await expect(qemuOutput({ storage: join(dir, 'nope'), format: 'raw', allocation: 'sparse' }).preflight('g', [], 0)).rejects.toThrow(
      /does not exist: create it/,
    );
  });
});
