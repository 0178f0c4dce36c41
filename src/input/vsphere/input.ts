/**
 * `-i libvirt -ic vpx://...|esx://... -ip FILE VMNAME`: a VM straight from
 * vCenter or ESXi. One API session (logged out at the end of the run, on
 * failure and on interrupt alike) finds the VM and reads its hardware; a VM
 * that is not powered off is refused before anything slow. Each disk is read
 * through the datastore's HTTPS file access with the session cookie, served
 * by nbdkit (curl plugin, retry filter) as the backing of the usual
 * copy-on-read overlay. The source VM is never changed.
 */
import { join } from 'node:path';
import { checkExport, startNbdkit, type NbdExport } from '../../../drivers/nbdkit.js';
import { endpointName } from '../../../drivers/vsphere.js';
import { PreflightError } from '../../errors.js';
import type { RemoteAccess } from '../../remote/access.js';
import { openRemoteDisk } from '../../remote/remote-disk.js';
import type { Input } from '../types.js';
import { diskDatastoreUrl, findDatacenter, findVm, loginWithOptions, readVm, vsphereEndpoint } from './inventory.js';
import type { VsphereOptions } from './options.js';
import { vsphereSource } from './source.js';

/** The vSphere input. */
export function vsphereInput(options: VsphereOptions): Input {
  const endpoint = vsphereEndpoint(options);
  const where = `${options.uri.kind === 'vpx' ? 'vCenter' : 'ESXi'} ${endpointName(endpoint)}`;
  return {
    describe: `VM "${options.vmName}" on ${where}`,
    async load(run) {
      const session = await loginWithOptions(options);
      run.cleanup.always(`logging out of ${where}`, () => session.logout());
      const dc = await findDatacenter(session, options.uri);
      const vm = await readVm(session, await findVm(session, dc, options.vmName));
      if (vm.powerState !== 'poweredOff') {
        throw new PreflightError(
          `The VM "${vm.name}" is ${vm.powerState === 'suspended' ? 'suspended' : 'powered on'}: shut the guest down (or power the VM off) in vSphere, then run v2v again (v2v never changes the source VM).`,
        );
      }
      const source = vsphereSource(vm, run.warnings);
      const cookieFile = join(run.tmpdir, 'vsphere-cookie');
      await session.writeCookieFile(cookieFile);
      let served = 0;
      const access: RemoteAccess = {
        read: (loc, maxBytes) => {
          if (loc.transport !== 'https') throw new Error('internal error: vSphere disks are https locations');
          return session.readFile(loc.url, maxBytes);
        },
        async serve(loc) {
          if (loc.transport !== 'https') throw new Error('internal error: vSphere disks are https locations');
          const e: NbdExport = {
            plugin: 'curl',
            url: loc.url,
            cookieFile,
            ...(options.caFile !== undefined ? { caFile: options.caFile } : {}),
            insecure: options.uri.noVerify,
            // --bandwidth/--bandwidth-file: nbdkit's rate filter, as for other remote sources.
            ...(options.bandwidth?.rate !== undefined ? { rate: options.bandwidth.rate } : {}),
            ...(options.bandwidth?.rateFile !== undefined ? { rateFile: options.bandwidth.rateFile } : {}),
          };
          const server = await startNbdkit(join(run.tmpdir, `nbd${served++}.sock`), e, run.cleanup);
          await checkExport(server, e);
          return server;
        },
      };
      for (const disk of source.disks) {
        const url = diskDatastoreUrl(endpoint, dc.path, vm.name, disk.path);
        const { backing } = await openRemoteDisk(access, { transport: 'https', url });
        disk.path = disk.path.trim();
        disk.backing = { ...backing, display: disk.path };
        if (backing.format !== undefined) disk.format = backing.format;
      }
      return source;
    },
  };
}
