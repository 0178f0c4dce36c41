/**
 * What every converter (Debian, RHEL, SUSE, Windows) is given: the running
 * appliance with the guest mounted, the source and its inspection, and how to
 * report.
 */
import type { Guestfs } from '../../drivers/guestfish.js';
import type { GuestCaps, Inspection, NicNetworkReport, Source, StaticIp } from '../model.js';
import type { VirtioWinLocation } from './windows/virtio-win-location.js';

/** What a converter needs. */
export interface ConvertInput {
  g: Guestfs;
  source: Source;
  inspection: Inspection;
  /** Reports progress and changes to the user. */
  log: (message: string) => void;
  /** Records a warning for the final summary. */
  warn: (message: string) => void;
  /** The run's temporary directory on the host (Windows: registry hive copies). */
  tmpdir: string;
  /** Windows: where virtio-win drivers come from (checked in preflight); absent: none. */
  virtioWin?: VirtioWinLocation;
  /**
   * `--mac MAC:ip:...` by lower-case MAC (several addresses when repeated):
   * static settings that replace what the guest's own config says for that
   * NIC. Absent or empty: none given.
   */
  staticIps?: ReadonlyMap<string, StaticIp[]>;
  /** Environment to read VIRT_TOOLS_DATA_DIR from (tests); default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** What a converter returns: the devices the guest can use, and what it did for the guest's network (becomes ctx.network). */
export type ConvertResult = Omit<GuestCaps, 'domainType'> & { network?: NicNetworkReport[] };
