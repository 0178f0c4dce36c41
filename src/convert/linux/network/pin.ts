/**
 * The network step of a Linux conversion: reads the guest's network config
 * (read-config.ts), pins each interface name to its source NIC's MAC
 * (pin-plan.ts), applies `--mac MAC:ip:...` (static.ts) and reports per NIC.
 */
import type { NicNetworkReport, StaticIp } from '../../../model.js';
import type { ConvertInput } from '../../convert-input.js';
import { planStaticIps, reportStaticIps, type StaticPlan } from './static.js';
import { readStaticGuest, writeStaticPlan, type GuestOwnerFacts } from './static-guest.js';
import {
  describeNetworkReport,
  LINK_DIR,
  PERSISTENT_NET_RULES,
  physicalInterfaces,
  planNetworkPins,
  tieInterfaces,
  type PhysicalInterface,
  type PinGuest,
} from './pin-plan.js';
import { readGuestNetworkConfig, readPinGuest } from './read-config.js';
import { type ConfiguredInterface } from './config.js';

/** The --mac ...:ip: decisions, from the guest's config as read and its ties to the source NICs. */
async function planGuestStaticIps(
  input: ConvertInput,
  entries: ConfiguredInterface[],
  pinGuest: PinGuest & { owner: GuestOwnerFacts },
): Promise<StaticPlan | undefined> {
  const requests = input.staticIps ?? new Map<string, StaticIp[]>();
  if (requests.size === 0) return undefined;
  const tied = new Map<number, PhysicalInterface[]>();
  for (const [index, ties] of tieInterfaces(physicalInterfaces(entries), input.source.nics).assigned)
    tied.set(
      index,
      ties.map((t) => t.phys),
    );
  const guest = await readStaticGuest(input.g, entries, pinGuest.existingPins, pinGuest.owner);
  return planStaticIps(requests, input.source.nics, entries, tied, guest);
}

/**
 * Finds the interface names the guest's network config uses, pins each to
 * its source NIC's MAC, applies `--mac MAC:ip:...` (static.ts), and
 * reports per NIC. Runs before the initramfs is rebuilt, so an initramfs
 * that copies .link files gets the pin too.
 */
export async function pinNetworkNames(input: ConvertInput): Promise<NicNetworkReport[]> {
  const { g, log, warn } = input;
  const entries = await readGuestNetworkConfig(g, warn);
  const pinGuest = await readPinGuest(g, entries);
  const staticPlan = await planGuestStaticIps(input, entries, pinGuest);
  // The files --mac adds name interfaces too: pinned like the guest's own.
  const physicals = physicalInterfaces([...entries, ...(staticPlan?.added ?? [])]);
  if (physicals.length === 0 && staticPlan === undefined) {
    log('network: no configuration naming an interface found; nothing to pin');
    return [];
  }
  const plan = planNetworkPins(physicals, input.source.nics, pinGuest);
  if (plan.writes.some((w) => w.path.startsWith(`${LINK_DIR}/`))) await g.call('mkdir-p', LINK_DIR);
  if (plan.writes.some((w) => w.path === PERSISTENT_NET_RULES)) await g.call('mkdir-p', '/etc/udev/rules.d');
  for (const { path, content } of plan.writes) await g.writeFile(path, content);
  if (staticPlan) await writeStaticPlan(g, staticPlan);
  for (const line of [...plan.log, ...(staticPlan?.log ?? [])]) log(`network: ${line}`);
  const { reports, warnings } = staticPlan ? reportStaticIps(plan.reports, staticPlan) : { reports: plan.reports, warnings: [] };
  for (const report of reports) log(describeNetworkReport(report));
  for (const warning of [...plan.warnings, ...(staticPlan?.warnings ?? []), ...warnings]) warn(warning);
  return reports;
}
