/**
 * Where each source NIC is plugged in on the target host, from the
 * virt-v2v-style options:
 *
 *   -n IN:OUT   NICs on source network IN go to libvirt network OUT
 *   -n OUT      every other NIC goes to libvirt network OUT
 *   -b IN:OUT   NICs on source network IN go to host bridge OUT
 *   -b OUT      every other NIC goes to host bridge OUT
 *   --mac MAC:network:OUT / --mac MAC:bridge:OUT   the NIC with that MAC
 *   --mac MAC:ip:ADDR[,GW[,PREFIX[,DNS...]]]      a static IP for the guest to
 *               set on that NIC (not where it plugs in: see mac-ip.ts)
 *
 * Precedence: --mac, then IN:OUT by the source network name, then the
 * default (-n OUT / -b OUT), then libvirt's network "default". Unlike
 * virt-v2v, IN is matched against the source network name whatever the
 * source connection type, because VMware sources (VMX) do not say whether a
 * port group is a "network" or a "bridge" in libvirt's sense. Pure.
 */
import { UsageError } from '../errors.js';
import type { SourceNic, StaticIp } from '../model.js';
import type { NicTarget } from './domain-xml.js';
import { parseMacIp } from './mac-ip.js';

/** The raw `-n`, `-b` and `--mac` values as given on the command line (each may repeat). */
export interface NetworkMapping {
  networks: string[];
  bridges: string[];
  macs: string[];
}

/** No option given: every NIC on libvirt's network "default". */
export const NO_NETWORK_MAPPING: NetworkMapping = { networks: [], bridges: [], macs: [] };

/** Where a rule sends a NIC. */
export interface Destination {
  type: NicTarget['type'];
  name: string;
}

/** The mapping, checked and indexed. */
export interface NetworkRules {
  /** By lower-case MAC. */
  byMac: ReadonlyMap<string, Destination>;
  /** By source network name. */
  byName: ReadonlyMap<string, Destination>;
  /** For NICs no other rule matches: -n OUT / -b OUT, else libvirt's network "default". */
  fallback: Destination;
  /** True when -n OUT or -b OUT gave the fallback (false: the implicit "default"). */
  fallbackGiven: boolean;
  /**
   * `--mac MAC:ip:...` by lower-case MAC, in command-line order (several
   * addresses when the option repeats for one MAC). Converters get it as
   * ConvertInput.staticIps: it overrides what was read from the guest.
   */
  staticIps: ReadonlyMap<string, StaticIp[]>;
}

const LIBVIRT_DEFAULT: Destination = { type: 'network', name: 'default' };
const MAC_RULE = /^([0-9a-f]{2}(?::[0-9a-f]{2}){5}):([a-z]+):(.*)$/i;

/** Checks and indexes the options; throws UsageError naming the bad option and the fix. Call it while parsing options. */
export function parseNetworkMapping(mapping: NetworkMapping): NetworkRules {
  const byName = new Map<string, Destination>();
  const byMac = new Map<string, Destination>();
  const staticIps = new Map<string, StaticIp[]>();
  let fallback: { destination: Destination; flag: string } | undefined;

  const addInOut = (flag: '-n' | '-b', type: Destination['type'], spec: string): void => {
    const colon = spec.indexOf(':');
    const input = colon < 0 ? undefined : spec.slice(0, colon);
    const output = colon < 0 ? spec : spec.slice(colon + 1);
    const kind = type === 'network' ? 'network' : 'bridge';
    if (output === '' || input === '') {
      throw new UsageError(
        `Invalid "${flag} ${spec}": write "${flag} IN:OUT" (source network IN to ${kind} OUT) or "${flag} OUT" (every other NIC to ${kind} OUT).`,
      );
    }
    const destination = { type, name: output };
    if (input === undefined) {
      if (fallback !== undefined) {
        throw new UsageError(
          `"${fallback.flag}" and "${flag} ${spec}" both set where unmapped NICs go: keep only one "-n OUT" or "-b OUT".`,
        );
      }
      fallback = { destination, flag: `${flag} ${spec}` };
    } else {
      if (byName.has(input))
        throw new UsageError(`Source network "${input}" is mapped twice by -n/-b: keep only one "IN:OUT" rule for it.`);
      byName.set(input, destination);
    }
  };
  for (const spec of mapping.networks) addInOut('-n', 'network', spec);
  for (const spec of mapping.bridges) addInOut('-b', 'bridge', spec);

  for (const spec of mapping.macs) {
    const match = MAC_RULE.exec(spec);
    const [, mac, kind, name] = match ?? [];
    if (mac === undefined || kind === undefined || name === undefined) {
      throw new UsageError(
        `Invalid "--mac ${spec}": write "--mac 52:54:00:12:34:56:network:NAME", "--mac 52:54:00:12:34:56:bridge:NAME" or "--mac 52:54:00:12:34:56:ip:192.0.2.10[,GATEWAY[,PREFIX[,DNS...]]]".`,
      );
    }
    const key = mac.toLowerCase();
    if (kind === 'ip') {
      const ip = parseMacIp(spec, name);
      const list = staticIps.get(key) ?? [];
      if (list.some((other) => other.address === ip.address))
        throw new UsageError(`Address ${ip.address} is given twice for MAC ${key} by --mac: keep only one "ip:" rule for it.`);
      staticIps.set(key, [...list, ip]);
      continue;
    }
    if (kind !== 'network' && kind !== 'bridge') {
      throw new UsageError(
        `Unsupported "--mac ${spec}": write "MAC:network:NAME", "MAC:bridge:NAME" or "MAC:ip:ADDRESS[,GATEWAY[,PREFIX[,DNS...]]]".`,
      );
    }
    if (name === '') throw new UsageError(`Invalid "--mac ${spec}": the ${kind} name after "${kind}:" is missing.`);
    if (byMac.has(key)) throw new UsageError(`MAC ${key} is mapped twice by --mac: keep only one rule for it.`);
    byMac.set(key, { type: kind, name });
  }
  return { byMac, byName, fallback: fallback?.destination ?? LIBVIRT_DEFAULT, fallbackGiven: fallback !== undefined, staticIps };
}

/** Where a rule the user gave sends one NIC (--mac, then IN:OUT, then -n/-b OUT); undefined when none does. */
export function ruleFor(nic: SourceNic, rules: NetworkRules): Destination | undefined {
  const byMac = nic.mac === undefined ? undefined : rules.byMac.get(nic.mac.toLowerCase());
  const byName = nic.network === undefined ? undefined : rules.byName.get(nic.network);
  return byMac ?? byName ?? (rules.fallbackGiven ? rules.fallback : undefined);
}

/** Where one NIC goes under the rules. */
function destinationOf(nic: SourceNic, rules: NetworkRules): Destination {
  return ruleFor(nic, rules) ?? rules.fallback;
}

/** Maps each source NIC to its target network or bridge, in source order, keeping its MAC; model is `defaultModel`. */
export function mapNetworks(nics: SourceNic[], mapping: NetworkMapping, defaultModel: string): NicTarget[] {
  const rules = parseNetworkMapping(mapping);
  return nics.map((nic) => {
    const { type, name } = destinationOf(nic, rules);
    const target: NicTarget = { type, name, model: defaultModel };
    if (nic.mac !== undefined) target.mac = nic.mac;
    return target;
  });
}
