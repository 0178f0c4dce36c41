/**
 * The static-IP form of --mac, as in virt-v2v:
 *
 *   --mac MAC:ip:ADDRESS[,GATEWAY[,PREFIX[,DNS,DNS...]]]
 *
 * ADDRESS is an IPv4 or IPv6 address; GATEWAY may be empty (`ADDR,,24`) for
 * none; PREFIX is the prefix length (24 for 255.255.255.0); every field after
 * PREFIX is a DNS server. Repeating the option for one MAC gives that NIC
 * several addresses. Unlike virt-v2v, which only checks that fields look like
 * addresses, each address is checked with node:net's isIP, the gateway must
 * be of the address's family, and PREFIX must fit it (0-32 or 0-128). Pure.
 */
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import type { StaticIp } from '../model.js';

/** The form to show in error messages. */
const FORM = '"--mac 52:54:00:12:34:56:ip:192.0.2.10[,GATEWAY[,PREFIX[,DNS...]]]"';

/**
 * Parses the part after `MAC:ip:` of one --mac option; `spec` is the whole
 * option value, for messages. Throws UsageError naming the bad field and the form.
 */
export function parseMacIp(spec: string, fields: string): StaticIp {
  const bad = (why: string): UsageError => new UsageError(`Invalid "--mac ${spec}": ${why}; write ${FORM}.`);
  const [address = '', gateway = '', prefix = '', ...dns] = fields.split(',').map((f) => f.trim());
  if (address === '') throw bad('the address after "ip:" is missing');
  const family = isIP(address);
  if (family === 0) throw bad(`"${address}" is not an IPv4 or IPv6 address`);
  if (gateway !== '' && isIP(gateway) !== family) {
    throw bad(
      isIP(gateway) === 0
        ? `the gateway "${gateway}" is not an IP address`
        : `the gateway "${gateway}" is not an IPv${family} address like ${address}`,
    );
  }
  const maxPrefix = family === 4 ? 32 : 128;
  if (prefix !== '' && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= maxPrefix)) {
    throw bad(`the prefix length "${prefix}" must be a whole number from 0 to ${maxPrefix} for an IPv${family} address`);
  }
  for (const server of dns) {
    if (isIP(server) === 0) throw bad(`the DNS server "${server}" is not an IP address`);
  }
  return { address, ...(gateway !== '' ? { gateway } : {}), ...(prefix !== '' ? { prefix: Number(prefix) } : {}), dns };
}
