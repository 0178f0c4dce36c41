/**
 * -o libvirt: every network and bridge the -n, -b and --mac rules name must
 * exist on the target, or the domain is defined but cannot start. Checked in
 * preflight, before anything is copied. Networks are asked of libvirt; a
 * bridge is a host device, looked up in /sys/class/net (the libvirt host is
 * this host: -o libvirt writes into the pool's directory directly). The
 * implicit network "default" (no rule given) is not checked: the domain
 * can be edited later, and virt-v2v does the same.
 */
import { stat } from 'node:fs/promises';
import { networkActive } from '../../drivers/virsh.js';
import { CommandError, PreflightError } from '../errors.js';
import type { NetworkMapping } from './networks.js';

/** The destinations the rules name explicitly. */
export function namedDestinations(mapping: NetworkMapping): { networks: string[]; bridges: string[] } {
  const out = (spec: string): string => spec.slice(spec.indexOf(':') + 1);
  const networks = mapping.networks.map(out);
  const bridges = mapping.bridges.map(out);
  for (const spec of mapping.macs) {
    const rule = /^(?:[0-9a-f]{2}:){6}(network|bridge):(.+)$/i.exec(spec);
    if (rule?.[1] === 'network') networks.push(rule[2]!);
    if (rule?.[1] === 'bridge') bridges.push(rule[2]!);
  }
  return { networks: [...new Set(networks)], bridges: [...new Set(bridges)] };
}

/** Throws PreflightError for the first named network missing (or inactive) at `uri`, or bridge missing on this host. */
export async function checkTargetNetworks(uri: string, mapping: NetworkMapping, sysClassNet = '/sys/class/net'): Promise<void> {
  const { networks, bridges } = namedDestinations(mapping);
  for (const network of networks) {
    let active: boolean | undefined;
    try {
      active = await networkActive(uri, network);
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      throw new PreflightError(
        `Could not look up libvirt network "${network}" at ${uri} (${error.stderr || error.message}): check libvirtd, or pass another "-oc URI".`,
        { cause: error },
      );
    }
    if (active === undefined) {
      throw new PreflightError(
        `The libvirt network "${network}" does not exist at ${uri}: create it ("virsh net-define"), or map the NICs to an existing one ("virsh net-list --all" lists them).`,
      );
    }
    if (!active) {
      throw new PreflightError(
        `The libvirt network "${network}" at ${uri} is not active: start it with "virsh -c ${uri} net-start ${network}", or map the NICs to an active one.`,
      );
    }
  }
  for (const bridge of bridges) {
    if (!(await stat(`${sysClassNet}/${bridge}/bridge`).catch(() => undefined))?.isDirectory()) {
      const exists = await stat(`${sysClassNet}/${bridge}`).catch(() => undefined);
      throw new PreflightError(
        exists
          ? `The host interface "${bridge}" is not a bridge: map the NICs to a bridge (-b IN:BRIDGE), or to a libvirt network with -n.`
          : `The bridge "${bridge}" does not exist on this host: create it, or map the NICs to an existing bridge or a libvirt network (-n).`,
      );
    }
  }
}
