/**
 * Hostile and broken local sources (issue #16 items 2, 3 and 4): OVAs, OVF
 * directories and VMX files built in a temp dir with tar, zip, ln -s,
 * mkfifo and qemu-img, loaded through the real input modules (no
 * appliance, no conversion). A "victim" directory stands for the host's
 * private files (/etc, another VM's datastore): nothing in it may become a
 * guest disk, and no run may hang on a FIFO or read /dev/zero forever.
 * Last, the built CLI on a .vmx whose displayName and directory hold
 * terminal escapes, under a pty and piped: nothing reaches a terminal raw.
 */
import { createHash } from 'node:crypto';
import { link, mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanups } from '../../src/host/cleanup.js';
import { SourceError } from '../../src/errors.js';
import type { Input, InputRun } from '../../src/input/types.js';
import { libvirtXmlInput } from '../../src/input/libvirtxml/input.js';
import { ovaInput } from '../../src/input/ova/input.js';
import { vmxInput } from '../../src/input/vmx/input.js';
import { cleanEnv, MARK_ENV, markedProcesses } from '../helpers/live-run.js';
import { isValidUtf8, rawControls } from '../helpers/hostile-text.js';
import { ROOT } from '../helpers/v2v.js';

const MiB = 2 ** 20;
let work: string;
let victim: string;
let secret: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'v2v-hostile-'));
  victim = path.join(work, 'victim');
  await mkdir(victim);
  secret = path.join(victim, 'secret.vmdk');
  // A real VMDK outside the source: being a valid disk must not be enough.
  await execa('qemu-img', ['create', '-q', '-f', 'vmdk', secret, String(MiB)]);
  await writeFile(path.join(victim, 'shadow'), 'root:$6$secret:19000:0:99999:7:::\n');
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function load(input: Input): Promise<Awaited<ReturnType<Input['load']>>> {
  const run: InputRun = { tmpdir: await mkdtemp(path.join(work, 'run-')), cleanup: new Cleanups() };
  return input.load(run);
}

/** The SourceError a load rejects with (a hang fails the test by its timeout). */
async function loadError(input: Input): Promise<string> {
  const error = await load(input).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  return (error as Error).message;
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

async function fresh(name: string): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir);
  return dir;
}

function vmx(fileName: string): string {
  return `displayName = "hostile"\nscsi0.present = "TRUE"\nscsi0:0.present = "TRUE"\nscsi0:0.deviceType = "scsi-hardDisk"\nscsi0:0.fileName = "${fileName}"\n`;
}

function ovf(href: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References><File ovf:href="${href}" ovf:id="file1"/></References>
  <DiskSection><Info>disks</Info><Disk ovf:capacity="1" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="d1" ovf:fileRef="file1"/></DiskSection>
  <VirtualSystem ovf:id="hostile"><Info>vm</Info><Name>hostile</Name>
    <VirtualHardwareSection><Info>hw</Info>
      <Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>6</rasd:ResourceType><rasd:Address>0</rasd:Address></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:HostResource>ovf:/disk/d1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
}

/** A VMDK descriptor with one flat extent named `extent`. */
function descriptor(extent: string, parent?: string): string {
  return [
    '# Disk DescriptorFile',
    'version=1',
    'CID=12345678',
    `parentCID=${parent ? '87654321' : 'ffffffff'}`,
    'createType="monolithicFlat"',
    ...(parent ? [`parentFileNameHint="${parent}"`] : []),
    '',
    `RW 2048 FLAT "${extent}" 0`,
    '',
    'ddb.adapterType = "lsilogic"',
    '',
  ].join('\n');
}

describe('item 2: an OVA cannot make v2v read a host file', () => {
  it('refuses a tar OVA whose member "sub" links to a host directory the OVF href goes through', async () => {
    const src = await fresh('tar-dirlink');
    await writeFile(path.join(src, 'g.ovf'), ovf('sub/secret.vmdk'));
    await symlink(victim, path.join(src, 'sub'));
    const ova = path.join(work, 'dirlink.ova');
    await execa('tar', ['-cf', ova, '-C', src, 'g.ovf', 'sub']);
    expect(await loadError(ovaInput(ova))).toMatch(/^The OVA .*dirlink\.ova contains sub, which is a symbolic link: .*re-export it\.$/);
  });

  it('refuses the same trick in a zip OVA', async () => {
    const src = await fresh('zip-dirlink');
    await writeFile(path.join(src, 'g.ovf'), ovf('sub/secret.vmdk'));
    await symlink(victim, path.join(src, 'sub'));
    const ova = path.join(work, 'dirlink-zip.ova');
    await execa('zip', ['-q', '--symlinks', ova, 'g.ovf', 'sub'], { cwd: src });
    expect(await loadError(ovaInput(ova))).toMatch(/contains sub, which is a symbolic link/);
  });

  it('refuses hard links and FIFOs in an archive', async () => {
    const src = await fresh('tar-hardlink');
    await writeFile(path.join(src, 'g.ovf'), ovf('a.vmdk'));
    await execa('qemu-img', ['create', '-q', '-f', 'vmdk', path.join(src, 'a.vmdk'), String(MiB)]);
    await link(path.join(src, 'a.vmdk'), path.join(src, 'b.vmdk'));
    const hard = path.join(work, 'hardlink.ova');
    await execa('tar', ['-cf', hard, '-C', src, 'g.ovf', 'a.vmdk', 'b.vmdk']);
    expect(await loadError(ovaInput(hard))).toMatch(/contains [ab]\.vmdk, which is a hard link/);
    const fifoSrc = await fresh('tar-fifo');
    await writeFile(path.join(fifoSrc, 'g.ovf'), ovf('a.vmdk'));
    await execa('mkfifo', [path.join(fifoSrc, 'a.vmdk')]);
    const fifo = path.join(work, 'fifo.ova');
    await execa('tar', ['-cf', fifo, '-C', fifoSrc, 'g.ovf', 'a.vmdk']);
    expect(await loadError(ovaInput(fifo))).toMatch(/contains a\.vmdk, which is a FIFO/);
  }, 10_000);

  it('never walks into a symlink to "/" or a link loop, in an archive or a directory', async () => {
    const src = await fresh('tar-rootlink');
    await writeFile(path.join(src, 'g.ovf'), ovf('g-disk1.vmdk'));
    await execa('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=streamOptimized', path.join(src, 'g-disk1.vmdk'), String(MiB)]);
    await symlink('/', path.join(src, 'root'));
    await symlink('.', path.join(src, 'loop'));
    const ova = path.join(work, 'rootlink.ova');
    await execa('tar', ['-cf', ova, '-C', src, 'g.ovf', 'g-disk1.vmdk', 'root', 'loop']);
    expect(await loadError(ovaInput(ova))).toMatch(/contains loop, which is a symbolic link/);
    // The same directory given as an OVF directory: the links are not followed, and not named by the OVF.
    expect((await load(ovaInput(src))).disks).toHaveLength(1);
  }, 5_000);

  it('refuses an OVF directory whose href goes through a symlink to elsewhere', async () => {
    const dir = await fresh('dir-dirlink');
    await writeFile(path.join(dir, 'g.ovf'), ovf('sub/secret.vmdk'));
    await symlink(victim, path.join(dir, 'sub'));
    expect(await loadError(ovaInput(dir))).toMatch(
      /^The disk file sub\/secret\.vmdk in .* resolves to .*victim\/secret\.vmdk, outside .*dir-dirlink: .*copy the file into the OVF directory/,
    );
  });

  it('refuses an OVA disk whose VMDK descriptor names an extent outside the OVA', async () => {
    const src = await fresh('tar-extent');
    await writeFile(path.join(src, 'g.ovf'), ovf('g-disk1.vmdk'));
    await writeFile(path.join(src, 'g-disk1.vmdk'), descriptor(path.join(victim, 'shadow')));
    const ova = path.join(work, 'extent.ova');
    await execa('tar', ['-cf', ova, '-C', src, 'g.ovf', 'g-disk1.vmdk']);
    expect(await loadError(ovaInput(ova))).toMatch(
      /^The extent .*victim\/shadow of The disk file g-disk1\.vmdk in .*extent\.ova resolves to .*victim\/shadow, outside /,
    );
  });
});

describe('item 3: a VMX disk cannot name a host file', () => {
  it('refuses fileNames that leave the .vmx directory: relative, absolute, /dev/zero, a symlink', async () => {
    const dir = await fresh('vmx-escape');
    const file = path.join(dir, 'g.vmx');
    await writeFile(file, vmx('../victim/shadow'));
    expect(await loadError(vmxInput(file))).toMatch(
      /^The disk .*victim\/shadow named by scsi0:0 in .*g\.vmx resolves to .*victim\/shadow, outside .*vmx-escape: .*copy the disk .* next to the \.vmx/,
    );
    await writeFile(file, vmx(secret));
    expect(await loadError(vmxInput(file))).toMatch(/secret\.vmdk named by scsi0:0 .* outside /);
    await writeFile(file, vmx('/dev/zero'));
    expect(await loadError(vmxInput(file))).toMatch(/^The disk \/dev\/zero named by scsi0:0 .* outside /);
    await symlink(secret, path.join(dir, 'linked.vmdk'));
    await writeFile(file, vmx('linked.vmdk'));
    expect(await loadError(vmxInput(file))).toMatch(/linked\.vmdk named by scsi0:0 .* resolves to .*victim\/secret\.vmdk, outside /);
  });

  it('refuses a disk inside the directory that is not a VMDK', async () => {
    const dir = await fresh('vmx-raw');
    await writeFile(path.join(dir, 'disk.vmdk'), Buffer.alloc(MiB));
    await writeFile(path.join(dir, 'g.vmx'), vmx('disk.vmdk'));
    expect(await loadError(vmxInput(path.join(dir, 'g.vmx')))).toMatch(
      /disk\.vmdk named by scsi0:0 .* is not a VMDK .*use "-i disk IMAGE"/,
    );
  });

  it('refuses a VMDK inside the directory whose extent, parent or protocol name leads outside', async () => {
    const dir = await fresh('vmx-descriptor');
    const file = path.join(dir, 'g.vmx');
    await writeFile(file, vmx('d.vmdk'));
    await writeFile(path.join(dir, 'd.vmdk'), descriptor('../victim/shadow'));
    expect(await loadError(vmxInput(file))).toMatch(
      /^The extent \.\.\/victim\/shadow of The disk .*d\.vmdk .* resolves to .*victim\/shadow, outside /,
    );
    await writeFile(path.join(dir, 'd.vmdk'), descriptor('nbd:unix:/run/x.sock'));
    expect(await loadError(vmxInput(file))).toMatch(
      /names the extent "nbd:unix:\/run\/x\.sock", which qemu would open as a network or special source/,
    );
    // A snapshot whose parent is another VM's disk.
    await execa('qemu-img', ['create', '-q', '-f', 'vmdk', '-b', secret, '-F', 'vmdk', path.join(dir, 'child.vmdk')]);
    await writeFile(file, vmx('child.vmdk'));
    expect(await loadError(vmxInput(file))).toMatch(/^The parent disk .*secret\.vmdk of The disk .*child\.vmdk .* outside /);
  });

  it('still reads a flat VMDK, a sparse one and a snapshot chain inside the directory, as vmdk', async () => {
    const dir = await fresh('vmx-good');
    await execa('qemu-img', ['create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', path.join(dir, 'flat.vmdk'), String(MiB)]);
    await execa('qemu-img', ['create', '-q', '-f', 'vmdk', path.join(dir, 'base.vmdk'), String(MiB)]);
    await execa('qemu-img', ['create', '-q', '-f', 'vmdk', '-b', 'base.vmdk', '-F', 'vmdk', path.join(dir, 'base-000001.vmdk')]);
    await writeFile(path.join(dir, 'g.vmx'), `${vmx('flat.vmdk')}scsi0:1.present = "TRUE"\nscsi0:1.fileName = "base-000001.vmdk"\n`);
    const source = await load(vmxInput(path.join(dir, 'g.vmx')));
    expect(source.disks.map((d) => [path.basename(d.path), d.format])).toEqual([
      ['flat.vmdk', 'vmdk'],
      ['base-000001.vmdk', 'vmdk'],
    ]);
  });
});

describe('item 4: FIFOs, devices and huge files are refused before any read', () => {
  it('a .vmx that is a FIFO is refused at once', async () => {
    const dir = await fresh('fifo-vmx');
    await execa('mkfifo', [path.join(dir, 'g.vmx')]);
    expect(await loadError(vmxInput(path.join(dir, 'g.vmx')))).toMatch(/^The VMX file .*g\.vmx is a FIFO, not a regular file/);
  }, 5_000);

  it('a .vmx of 5 MiB is refused without reading it', async () => {
    const dir = await fresh('big-vmx');
    await truncate(path.join(dir, 'g.vmx'), 0).catch(() => writeFile(path.join(dir, 'g.vmx'), ''));
    await truncate(path.join(dir, 'g.vmx'), 5 * MiB);
    expect(await loadError(vmxInput(path.join(dir, 'g.vmx')))).toMatch(/is 5242880 bytes, more than the 4 MiB/);
  });

  it('an OVF directory whose manifest lists a FIFO or a link to /dev/zero, or whose .ovf is /dev/zero, is refused at once', async () => {
    const dir = await fresh('ovf-fifo');
    await writeFile(path.join(dir, 'g.ovf'), ovf('g-disk1.vmdk'));
    await execa('mkfifo', [path.join(dir, 'g-disk1.vmdk')]);
    await writeFile(path.join(dir, 'g.mf'), `SHA1(g-disk1.vmdk)= ${'0'.repeat(40)}\n`);
    expect(await loadError(ovaInput(dir))).toMatch(/lists g-disk1\.vmdk, which is a FIFO in .*ovf-fifo, not a regular file/);
    await rm(path.join(dir, 'g-disk1.vmdk'));
    await symlink('/dev/zero', path.join(dir, 'g-disk1.vmdk'));
    expect(await loadError(ovaInput(dir))).toMatch(/lists g-disk1\.vmdk, which resolves to \/dev\/zero, outside /);
    const zero = await fresh('ovf-zero');
    await symlink('/dev/zero', path.join(zero, 'g.ovf'));
    expect(await loadError(ovaInput(zero))).toMatch(/g\.ovf in .*ovf-zero resolves to \/dev\/zero, outside the OVA/);
  }, 5_000);

  it('an OVA that is a FIFO is refused at once', async () => {
    const fifo = path.join(work, 'pipe.ova');
    await execa('mkfifo', [fifo]);
    expect(await loadError(ovaInput(fifo))).toMatch(/^The OVA .*pipe\.ova is a FIFO/);
  }, 5_000);

  it('a libvirt XML disk may be a host path (the XML names host paths by nature) but not a FIFO or /dev/zero', async () => {
    const dir = await fresh('libvirt');
    const xml = (source: string): string =>
      `<domain type='kvm'><name>g</name><memory unit='MiB'>512</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices><disk type='file' device='disk'><source file='${source}'/><target dev='sda' bus='scsi'/></disk></devices></domain>`;
    await writeFile(path.join(dir, 'g.xml'), xml(secret));
    expect((await load(libvirtXmlInput(path.join(dir, 'g.xml')))).disks[0]!.path).toBe(secret);
    await writeFile(path.join(dir, 'g.xml'), xml('/dev/zero'));
    expect(await loadError(libvirtXmlInput(path.join(dir, 'g.xml')))).toMatch(
      /^The disk \/dev\/zero named in .*g\.xml is a character device, not a disk image/,
    );
    await execa('mkfifo', [path.join(dir, 'fifo')]);
    await writeFile(path.join(dir, 'g.xml'), xml(path.join(dir, 'fifo')));
    expect(await loadError(libvirtXmlInput(path.join(dir, 'g.xml')))).toMatch(/fifo named in .*g\.xml is a FIFO, not a disk image/);
  }, 5_000);

  it('leaves the victim files as they were', async () => {
    expect(await readFile(path.join(victim, 'shadow'), 'utf8')).toContain('root:');
    expect(await sha256(secret)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('nothing a source says reaches the terminal raw: the built CLI, stopped at preflight', () => {
  // A window title, a clear screen and a colour in the name; a colour in the directory; a bell in a value.
  const NAME = 'evil\u001b]0;pwned\u0007\u001b[2J\u001b[31mRED';
  const NAME_SHOWN = 'evil\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mRED';
  const RAW = ['\u001b]', '\u0007', '\u001b[2J', '\u001b[31mRED', '\u001b[31mx/'];
  /** What listr2 and log-update write themselves: colours, cursor moves, line erasing, the cursor hidden and shown. */
  const LISTR2_OWN = /\u001b\[[0-9;]*[mGAKJ]|\u001b\[\?25[lh]/g;
  let dir: string;
  let vmxPath: string;

  beforeAll(async () => {
    dir = path.join(work, 'term\u001b[31mx');
    await mkdir(dir);
    await execa('qemu-img', ['create', '-q', '-f', 'vmdk', path.join(dir, 'd.vmdk'), String(MiB)]);
    vmxPath = path.join(dir, 'g.vmx');
    await writeFile(
      vmxPath,
      `displayName = "${NAME}"\nmemSize = "lots\u0007"\nscsi0.present = "TRUE"\nscsi0:0.present = "TRUE"\nscsi0:0.fileName = "d.vmdk"\n`,
    );
  });

  const v2vArgs = (name: string): string[] => [
    '-i',
    'vmx',
    vmxPath,
    '-o',
    'null',
    '--log-file',
    path.join(work, `${name}.log`),
    `--machine-readable=file:${path.join(work, `${name}.jsonl`)}`,
  ];
  const shown = (text: string): string => text.replace('\u001b', '\\x1b');

  /**
   * Runs `file args` (a v2v run named `name`, see v2vArgs) with
   * V2V_TEST_PAUSE_AT=preflight: the source line is rendered and the overlay
   * made, with no appliance and no KVM probe. Once its events say it is
   * paused, the v2v process (found by a marker in its environment: the live
   * renderer holds its stderr until it ends) gets SIGTERM. Returns its bytes.
   */
  async function stoppedAtPreflight(
    name: string,
    file: string,
    args: string[],
    env: Record<string, string>,
  ): Promise<{ code: number; out: Buffer; err: Buffer }> {
    const mark = `hostile-${name}-${process.pid}`;
    const child = spawn(file, args, {
      env: { ...cleanEnv(), TMPDIR: work, V2V_TEST_PAUSE_AT: 'preflight', [MARK_ENV]: mark, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const closed = new Promise<number>((resolve) => child.once('close', (c) => resolve(c ?? -1)));
    const events = path.join(work, `${name}.jsonl`);
    for (let waited = 0; waited < 30_000; waited += 100) {
      if ((await readFile(events, 'utf8').catch(() => '')).includes('test hook: paused at preflight')) {
        // v2v itself, not script(1) or its shell, whose command lines name bin/v2v.js too.
        for (const p of await markedProcesses(mark)) if (/^\S*node \S*bin\/v2v\.js /.test(p.cmd)) process.kill(p.pid, 'SIGTERM');
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return { code: await closed, out: Buffer.concat(out), err: Buffer.concat(err) };
  }

  it('on a terminal (live renderer under script(1)) and in the log: escaped, with listr2 colours kept', async () => {
    const command = ['node', path.join(ROOT, 'bin/v2v.js'), ...v2vArgs('pty')].map((a) => `'${a}'`).join(' ');
    const run = await stoppedAtPreflight('pty', 'script', ['-qfec', `stty cols 200 rows 50; ${command}`, '/dev/null'], {
      TERM: 'xterm-256color',
    });
    expect(run.code).toBe(130);
    expect(isValidUtf8(run.out)).toBe(true);
    const out = run.out.toString('utf8').replace(/\r\n/g, '\n');
    expect(out).toContain(`Setting up the source: VMX file ${shown(vmxPath)}`);
    // The detail line under a running stage: listr2 itself drops the BEL and the erase sequence there; the rest is escaped.
    expect(out).toContain('evil\\x1b]0;pwned\\x1b[31mRED: 1 vCPU, 32 MiB, 1 disk(s)');
    expect(out).toContain(`v2v: warning: line 2 of ${shown(vmxPath)}: memSize = "lots\\x07" is not a positive whole number`);
    expect(out).toContain('v2v: error: interrupted');
    expect(out).toMatch(/\u001b\[32m✔\u001b\[39m Setting up the source/); // listr2's green tick
    for (const raw of RAW) expect(out).not.toContain(raw);
    expect(rawControls(out.replace(LISTR2_OWN, ''), { newlines: true })).toEqual([]);

    const logBytes = await readFile(path.join(work, 'pty.log'));
    expect(isValidUtf8(logBytes)).toBe(true);
    const text = logBytes.toString('utf8');
    expect(text).toContain(`${NAME_SHOWN}: 1 vCPU, 32 MiB, 1 disk(s)`);
    expect(text).toContain(`Setting up the source: VMX file ${shown(vmxPath)}`);
    expect(text).toContain(`memSize = "lots\\x07"`);
    expect(text).toMatch(/\] \+ qemu-img .*term\\x1b\[31mx\/d\.vmdk/); // the trace the log always keeps
    expect(rawControls(text, { newlines: true })).toEqual([]);
  });

  it('piped with -v -x: lines, trace and details escaped; --machine-readable keeps the original name', async () => {
    const run = await stoppedAtPreflight('piped', 'node', [path.join(ROOT, 'bin/v2v.js'), ...v2vArgs('piped'), '-v', '-x'], {});
    expect(run.code).toBe(130);
    expect(isValidUtf8(run.out) && isValidUtf8(run.err)).toBe(true);
    const out = run.out.toString('utf8');
    const err = run.err.toString('utf8');
    expect(out).toContain(`${NAME_SHOWN}: 1 vCPU, 32 MiB, 1 disk(s)`);
    expect(err).toMatch(/\] \+ qemu-img .*term\\x1b\[31mx\/d\.vmdk/); // -x
    expect(err).toMatch(/\] = .*term\\x1b\[31mx\/d\.vmdk/); // -v: what qemu-img printed
    expect(err).toContain(`v2v: warning: line 2 of ${shown(vmxPath)}: memSize = "lots\\x07"`);
    for (const raw of RAW) expect(out + err).not.toContain(raw);
    expect(rawControls(out + err, { newlines: true })).toEqual([]);

    const text = await readFile(path.join(work, 'piped.jsonl'), 'utf8');
    expect(rawControls(text, { newlines: true })).toEqual([]);
    const messages = text
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages).toContain(`${NAME}: 1 vCPU, 32 MiB, 1 disk(s), 0 NIC(s), BIOS`);
  });
});
