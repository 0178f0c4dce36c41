/**
 * The JSON schema of a `v2v batch` manifest (JSON or YAML): one entry per
 * guest, holding every option of a single run under the name of its long
 * command-line flag in camelCase (--password-file: passwordFile; -ic, which
 * has no long name: input.connection). Unknown keys are errors (additionalProperties: false),
 * so a typo cannot be dropped silently.
 */

const strings = { type: 'array', items: { type: 'string', minLength: 1 } } as const;
const text = { type: 'string', minLength: 1 } as const;

/** One guest. */
const guest = {
  type: 'object',
  additionalProperties: false,
  required: ['input', 'output'],
  properties: {
    name: { ...text, description: 'Report and log key, and the output name (-on) unless output.name is given' },
    input: {
      type: 'object',
      additionalProperties: false,
      properties: {
        mode: text,
        paths: { ...strings, minItems: 1 },
        path: text,
        format: text,
        allowDirs: { ...strings, description: '--allow-dir, repeatable (relative to the manifest)' },
        connection: { ...text, description: '-ic: a vpx:// or esx:// URI (the paths are then one VM name)' },
        transport: text,
        passwordFile: text,
        sshIdentity: text,
        knownHosts: text,
        sshFingerprint: text,
        caFile: text,
        insecure: { type: 'boolean' },
        bandwidth: text,
        bandwidthFile: text,
      },
    },
    output: {
      type: 'object',
      additionalProperties: false,
      required: ['mode'],
      properties: {
        mode: text,
        storage: text,
        connection: text,
        format: text,
        allocation: text,
        name: text,
        compressed: { type: 'boolean' },
        domainType: text,
        noSpaceCheck: { type: 'boolean' },
      },
    },
    networks: strings,
    bridges: strings,
    macs: strings,
    root: text,
    virtioWin: text,
    verbose: { type: 'boolean' },
    trace: { type: 'boolean' },
    logFile: text,
    noLogFile: { type: 'boolean' },
    verify: { type: ['string', 'boolean'], description: '--verify: checksum, boot, all (or true), none (or false)' },
  },
} as const;

/** The whole manifest (a bare list of guests is read as `{ "guests": [...] }`). */
export const MANIFEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['guests'],
  properties: { guests: { type: 'array', minItems: 1, items: guest } },
} as const;

/** Keys a guest entry may have at each level, for "did you mean". */
export const MANIFEST_KEYS = {
  guest: Object.keys(guest.properties),
  input: Object.keys(guest.properties.input.properties),
  output: Object.keys(guest.properties.output.properties),
} as const;
