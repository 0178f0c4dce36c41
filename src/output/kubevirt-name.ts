/**
 * The name rule of `-o kubevirt`: a VirtualMachine's metadata.name is an
 * RFC 1123 subdomain, as Kubernetes requires of every custom resource's name
 * (virt-v2v's -o kubevirt applies the same rule). Checked on -on at once and
 * on a name derived from the source in preflight; the refusal names -on.
 * Kept apart from kubevirt-vm.ts so the command line loads only this.
 */

/** RFC 1123 subdomain, the rule Kubernetes applies to a custom resource's metadata.name (253 characters at most). */
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SUBDOMAIN_MAX = 253;

/** The rule, as the refusals say it. */
const NAME_RULE = "an RFC 1123 name: at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit";

/** True when `name` can be a VirtualMachine's metadata.name (an RFC 1123 subdomain). */
export function isKubevirtName(name: string): boolean {
  return name.length <= SUBDOMAIN_MAX && SUBDOMAIN_RE.test(name);
}

/** A name following the rule, made from `name` (lower case, other characters as '-'), for the refusal to suggest. */
export function kubevirtNameFor(name: string): string {
  const labels = name
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .split('.')
    .map((label) => label.replace(/^-+|-+$/g, ''))
    .filter((label) => label !== '');
  const candidate = labels
    .join('.')
    .slice(0, SUBDOMAIN_MAX)
    .replace(/[-.]+$/, '');
  return isKubevirtName(candidate) ? candidate : 'guest';
}

/** The sentence refusing a name that is not an RFC 1123 name, with the -on fix. */
export function kubevirtNameProblem(name: string): string {
  const shown = name.length > 40 ? `${name.slice(0, 40)}... (${name.length} characters)` : `"${name}"`;
  return `The guest name ${shown} cannot name a KubeVirt VirtualMachine (its metadata.name must be ${NAME_RULE}): choose one with "-on NAME", e.g. "-on ${kubevirtNameFor(name)}".`;
}
