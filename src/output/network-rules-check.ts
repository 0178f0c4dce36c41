/**
 * -n IN:OUT, -b IN:OUT and --mac rules that match no NIC of the source: a
 * typo there silently sends the NIC to the default network, so each one is a
 * warning naming what the source has. Pure; run once the source is read.
 */
import type { SourceNic } from '../model.js';
import type { NetworkMapping } from './networks.js';

/** One warning per rule that matches no source NIC. */
export function unmatchedNetworkRules(nics: readonly SourceNic[], mapping: NetworkMapping): string[] {
  const networks = [...new Set(nics.map((nic) => nic.network).filter((n): n is string => n !== undefined))];
  const macs = new Set(nics.map((nic) => nic.mac?.toLowerCase()).filter((m): m is string => m !== undefined));
  const have =
    networks.length > 0 ? `the source's networks are ${networks.map((n) => `"${n}"`).join(', ')}` : 'the source names no network';
  const warnings: string[] = [];
  const inOut = (flag: string, spec: string): void => {
    const colon = spec.indexOf(':');
    if (colon <= 0) return; // "-n OUT" is the default for every other NIC: nothing to match
    const input = spec.slice(0, colon);
    if (!networks.includes(input)) warnings.push(`"${flag} ${spec}" matches no NIC (${have}): check the name before the colon.`);
  };
  for (const spec of mapping.networks) inOut('-n', spec);
  for (const spec of mapping.bridges) inOut('-b', spec);
  for (const spec of mapping.macs) {
    const mac = /^([0-9a-f]{2}(?::[0-9a-f]{2}){5}):/i.exec(spec)?.[1]?.toLowerCase();
    if (mac !== undefined && !macs.has(mac)) {
      warnings.push(
        `"--mac ${spec}" matches no NIC (the source's MACs are ${macs.size > 0 ? [...macs].join(', ') : 'not fixed'}): check the address.`,
      );
    }
  }
  return warnings;
}
