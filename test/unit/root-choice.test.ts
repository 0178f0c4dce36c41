import { describe, expect, it } from 'vitest';
import { ConversionError, UsageError } from '../../src/errors.js';
import { normalizeOptions } from '../../src/cli/options.js';
import {
  chooseRoot,
  describeRoots,
  encryptedDevices,
  isHibernationHeader,
  mountFailure,
  parseRootAnswer,
  refuseEncrypted,
  type FoundRoot,
} from '../../src/convert/root/choice.js';
import { parseRootChoice } from '../../src/convert/root/option.js';

const two: FoundRoot[] = [
  { root: '/dev/sda1', label: 'Alpine Linux' },
  { root: '/dev/sda2', label: 'Arch Linux' },
];

describe('parseRootChoice', () => {
  it('parses single (default), first, ask and a device', () => {
    expect(parseRootChoice(undefined)).toEqual({ kind: 'single' });
    expect(parseRootChoice('single')).toEqual({ kind: 'single' });
    expect(parseRootChoice('first')).toEqual({ kind: 'first' });
    expect(parseRootChoice('ask')).toEqual({ kind: 'ask' });
    expect(parseRootChoice('/dev/sda2')).toEqual({ kind: 'device', device: '/dev/sda2' });
  });
  it('rejects anything else as a usage error naming the accepted values', () => {
    expect(() => parseRootChoice('sda2')).toThrow(UsageError);
    expect(() => parseRootChoice('sda2')).toThrow('Invalid "--root sda2": use single, first, ask, or a root device such as /dev/sda2.');
  });
  it('is wired into the options (--root), and --key is refused as not supported yet', () => {
    const base = { i: 'disk', o: 'null', positional: ['/tmp/x.img'] };
    expect(normalizeOptions(base).root).toBeUndefined();
    expect(normalizeOptions({ ...base, root: 'first' }).root).toEqual({ kind: 'first' });
    expect(() => normalizeOptions({ ...base, root: 'bogus' })).toThrow(UsageError);
    expect(() => normalizeOptions({ ...base, key: ['/dev/sda2:key:secret'] })).toThrow(
      '--key is not supported yet (v2v cannot unlock LUKS volumes): remove the encryption in the source VM and retry without --key.',
    );
  });
});

describe('chooseRoot', () => {
  it('refuses a disk with no operating system', () => {
    expect(() => chooseRoot([], { kind: 'single' }, false)).toThrow(
      "No operating system was found on the source disks: check that the source names the guest's system disk.",
    );
  });
  it('returns the only root whatever the choice (except a device that is not it)', () => {
    const one = [two[0] as FoundRoot];
    for (const kind of ['single', 'first', 'ask'] as const) expect(chooseRoot(one, { kind }, false)).toBe('/dev/sda1');
    expect(() => chooseRoot(one, { kind: 'device', device: '/dev/sdb1' }, false)).toThrow(
      '"--root /dev/sdb1" is not a root the source disks hold (found: /dev/sda1 (Alpine Linux)): pass one of these devices.',
    );
  });
  it('refuses multi-boot by default, naming each root and the --root fix', () => {
    expect(() => chooseRoot(two, { kind: 'single' }, true)).toThrow(ConversionError);
    expect(() => chooseRoot(two, { kind: 'single' }, true)).toThrow(
      'The source disks hold 2 operating systems (/dev/sda1 (Alpine Linux), /dev/sda2 (Arch Linux)): choose the one to convert with "--root /dev/X" (or "--root first", or "--root ask" on a terminal).',
    );
  });
  it('first picks the first root; a device picks that root', () => {
    expect(chooseRoot(two, { kind: 'first' }, false)).toBe('/dev/sda1');
    expect(chooseRoot(two, { kind: 'device', device: '/dev/sda2' }, false)).toBe('/dev/sda2');
  });
  it('ask prompts on a terminal and refuses without one', () => {
    expect(chooseRoot(two, { kind: 'ask' }, true)).toBe('prompt');
    expect(() => chooseRoot(two, { kind: 'ask' }, false)).toThrow(
      'The source disks hold 2 operating systems (/dev/sda1 (Alpine Linux), /dev/sda2 (Arch Linux)) and "--root ask" cannot ask without a terminal on stdin: pass "--root /dev/X" naming one of them, or "--root first".',
    );
  });
  it('parses prompt answers by number or device, rejecting others', () => {
    expect(parseRootAnswer(' 2\n', two)).toBe('/dev/sda2');
    expect(parseRootAnswer('/dev/sda1', two)).toBe('/dev/sda1');
    expect(parseRootAnswer('3', two)).toBeUndefined();
    expect(parseRootAnswer('0', two)).toBeUndefined();
    expect(parseRootAnswer('sda1', two)).toBeUndefined();
  });
  it('describes roots without a label by device only', () => {
    expect(describeRoots([{ root: '/dev/sdb1', label: '' }, two[1] as FoundRoot])).toBe('/dev/sdb1, /dev/sda2 (Arch Linux)');
  });
});

describe('encrypted volumes', () => {
  it('finds crypto_LUKS devices and refuses them with the fix', () => {
    const devices = encryptedDevices([
      ['/dev/sda1', 'ext4'],
      ['/dev/sda2', 'crypto_LUKS'],
      ['/dev/sdb', 'crypto_LUKS'],
    ]);
    expect(devices).toEqual(['/dev/sda2', '/dev/sdb']);
    expect(() => refuseEncrypted(devices)).toThrow(
      'The source disks hold LUKS-encrypted volumes (/dev/sda2, /dev/sdb), which v2v cannot unlock yet (there is no --key support): remove the encryption in the source VM (e.g. "cryptsetup reencrypt --decrypt") and retry.',
    );
    expect(() => refuseEncrypted([])).not.toThrow();
  });
});

describe('isHibernationHeader', () => {
  it('is true for "hibr" and "HIBR" headers (hibernation, Fast Startup), false for "wake", zeros or nothing', () => {
    expect(isHibernationHeader('hibr')).toBe(true);
    expect(isHibernationHeader('HIBR')).toBe(true);
    expect(isHibernationHeader('wake')).toBe(false);
    expect(isHibernationHeader('\\x00\\x00\\x00\\x00')).toBe(false);
    expect(isHibernationHeader('')).toBe(false);
  });
});

describe('mountFailure', () => {
  it('explains hibernated / Fast Startup NTFS with the fix', () => {
    const e = mountFailure(
      new Error('libguestfs mount failed: mount: /sysroot: Windows is hibernated, refused to mount.'),
      '/dev/sda2',
      '/',
    );
    expect(e).toBeInstanceOf(ConversionError);
    expect(e.message).toBe(
      'The guest\'s / filesystem (/dev/sda2) is hibernated or was left by Windows Fast Startup: start the source VM, disable Fast Startup ("powercfg /h off") and shut Windows down fully, then retry.',
    );
    expect(
      mountFailure(new Error('The disk contains an unclean file system (0, 0). ... no hibernation or fast restarting.'), '/dev/sda2', '/'),
    ).toBeInstanceOf(ConversionError);
  });
  it('passes other mount errors through unchanged', () => {
    const original = new Error('libguestfs mount failed: wrong fs type');
    expect(mountFailure(original, '/dev/sda1', '/')).toBe(original);
  });
});
