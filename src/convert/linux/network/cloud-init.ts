/**
 * cloud-init and `--mac MAC:ip:...`: a guest whose cloud-init network config
 * is enabled re-renders its network files (netplan 50-cloud-init.yaml,
 * ifupdown 50-cloud-init, ifcfg) from the datasource on a later boot — a new
 * instance-id, or another datasource on KVM — and the static address v2v
 * wrote is gone. v2v then disables cloud-init's network config with the
 * setting cloud-init documents: `network: {config: disabled}` in the combined
 * config merged from /etc/cloud/cloud.cfg and /etc/cloud/cloud.cfg.d/*.cfg
 * (https://docs.cloud-init.io/en/latest/reference/network-config.html,
 * "Disabling network configuration"). Pure functions.
 */
import { parse as parseYaml } from 'yaml';
import { optionText } from './static-formats.js';
import type { StaticIp } from '../../../model.js';

/** The file v2v writes; 99-: read after the guest's own cloud.cfg.d files, so its value wins. */
export const CLOUD_INIT_V2V_CFG = '/etc/cloud/cloud.cfg.d/99-v2v-network.cfg';

/** cloud-init in the guest: not installed, installed with its network config off, or on. */
export type CloudInitNetwork = 'absent' | 'disabled' | 'enabled';

/**
 * Whether cloud-init's network config is on, from its config files in the
 * order it merges them (cloud.cfg, then cloud.cfg.d/*.cfg by name; a later
 * `network: config:` wins) and the kernel command line
 * (`network-config=disabled`, or `cloud-init=disabled` for all of it). A file
 * that is not valid YAML sets nothing.
 */
export function cloudInitNetwork(
  files: ReadonlyArray<{ path: string; text: string }>,
  cmdline: string,
): Exclude<CloudInitNetwork, 'absent'> {
  if (/(^|\s|")(network-config|cloud-init)=disabled(\s|"|$)/m.test(cmdline)) return 'disabled';
  let config: unknown;
  for (const { text } of files) {
    try {
      const doc: unknown = parseYaml(text);
      const network = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['network'] : undefined;
      if (typeof network === 'object' && network !== null && 'config' in network) config = (network as Record<string, unknown>)['config'];
    } catch {
      continue;
    }
  }
  return config === 'disabled' ? 'disabled' : 'enabled';
}

/** The text of CLOUD_INIT_V2V_CFG, saying which option it protects. */
export function cloudInitDisableNetwork(applied: ReadonlyArray<{ mac: string; ips: readonly StaticIp[] }>): string {
  return [
    `# Written by v2v when this guest was converted to KVM: ${applied.map(({ mac, ips }) => optionText(mac, ips)).join(' ')}`,
    "# set static addresses in the guest's network config, which cloud-init would",
    '# otherwise render again from its datasource on a later boot (a new instance-id,',
    '# another datasource on KVM). Remove this file to let cloud-init configure the network.',
    'network: {config: disabled}',
    '',
  ].join('\n');
}
