/**
 * `--mac MAC:ip:...` entries a converter could not apply, made visible: a
 * NicNetworkReport (source 'option', with a note) for each, and one warning.
 * The Linux converters use it for the entries they refuse
 * (static.ts: no NIC with that MAC, a bond member, no network
 * system found). Pure.
 */
import type { NicNetworkReport, StaticIp } from '../../../model.js';

/**
 * Adds the entries of `staticIps` (by lower-case MAC) that `reports` does not
 * already carry as source 'option': to the NIC's report when there is one
 * (its own settings stay; the note says the option was not applied), else as
 * a new report. Returns the reports and the warning to show (absent when
 * nothing was left unapplied).
 */
export function recordUnappliedStaticIps(
  reports: readonly NicNetworkReport[],
  staticIps: ReadonlyMap<string, StaticIp[]>,
  why: string,
): { reports: NicNetworkReport[]; warning?: string } {
  const out = reports.map((r) => ({ ...r }));
  const unapplied: string[] = [];
  for (const [mac, ips] of staticIps) {
    const existing = out.find((r) => r.mac === mac);
    if (existing?.source === 'option') continue;
    const note = `--mac ${mac}:ip:${ips.map((ip) => ip.address).join(', ')} not applied: ${why}`;
    if (existing) existing.note = existing.note ? `${existing.note}; ${note}` : note;
    else out.push({ mac, names: [], matchedBy: 'option', files: [], staticIps: ips, source: 'option', note });
    unapplied.push(mac);
  }
  if (unapplied.length === 0) return { reports: out };
  return { reports: out, warning: `--mac ...:ip: for ${unapplied.join(', ')} is not applied: ${why}` };
}
