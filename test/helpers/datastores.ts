/**
 * A fixture guest laid out as ESXi lays out a VM with a data disk on another
 * datastore: its .vmx in DS1/NAME/ names its system disk by an absolute path
 * (the fixture's own guest.vmdk, elsewhere) and a small data disk on DS2 by
 * `../../ds2/NAME/NAME_1.vmdk`, a descriptor and its flat extent as ESXi
 * writes them. The data disk starts with a marker and random bytes, so a
 * converted copy can be compared with it, and its size is what the guest's
 * kernel prints when it finds the disk (`[vdb] 65536 512-byte logical blocks`).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { vmfsDescriptor } from '../../bench/vcsim.js';
import type { Fixture } from './fixture.js';

/** Size of the data disk. */
export const DATA_DISK_MIB = 32;
/** What the guest's kernel prints on the console for the data disk as its second virtio disk. */
export const DATA_DISK_CONSOLE = new RegExp(`virtio_blk virtio\\d+: \\[vdb\\] ${(DATA_DISK_MIB * 2 ** 20) / 512} 512-byte logical blocks`);

/** Where the layout put things. */
export interface TwoDatastoreVm {
  /** The .vmx, in DS1/NAME/. */
  vmx: string;
  /** The second datastore's directory (DS2), which holds NAME/NAME_1.vmdk. */
  ds2: string;
  /** The data disk's flat extent (raw): what its converted copy must equal. */
  dataFlat: string;
}

/** Lays out `fixture` under `root` (root/ds1, root/ds2); `name` names the VM's directories and files. */
export async function twoDatastoreVm(fixture: Fixture, root: string, name: string): Promise<TwoDatastoreVm> {
  const [vmDir, dataDir] = [join(root, 'ds1', name), join(root, 'ds2', name)];
  await mkdir(vmDir, { recursive: true });
  await mkdir(dataDir, { recursive: true });
  const original = await readFile(fixture.vmx, 'utf8');
  const system = 'scsi0:0.fileName = "guest.vmdk"';
  if (!original.includes(system)) throw new Error(`${fixture.vmx} has no ${system}`);
  const vmx = join(vmDir, `${name}.vmx`);
  await writeFile(
    vmx,
    original.replace(system, `scsi0:0.fileName = "${fixture.vmdk}"`) +
      [
        'scsi0:1.present = "TRUE"',
        'scsi0:1.deviceType = "scsi-hardDisk"',
        `scsi0:1.fileName = "../../ds2/${name}/${name}_1.vmdk"`,
        '',
      ].join('\n'),
  );
  const dataFlat = join(dataDir, `${name}_1-flat.vmdk`);
  const file = await open(dataFlat, 'w');
  try {
    await file.write(
      Buffer.concat([Buffer.from(`v2v data disk of ${name} on another datastore\n`), randomBytes(64 * 1024)]),
      0,
      undefined,
      0,
    );
    await file.truncate(DATA_DISK_MIB * 2 ** 20);
  } finally {
    await file.close();
  }
  await writeFile(join(dataDir, `${name}_1.vmdk`), vmfsDescriptor(`${name}_1-flat.vmdk`, DATA_DISK_MIB * 2 ** 20, 'lsilogic'));
  return { vmx, ds2: join(root, 'ds2'), dataFlat };
}
