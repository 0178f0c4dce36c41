import { describe, expect, it } from 'vitest';
import { normalizeOptions, type RawOptions } from '../../src/cli/options.js';
import { UsageError } from '../../src/errors.js';

const base: RawOptions = { i: 'vmx', o: 'local', os: '/out', positional: ['/src/guest.vmx'] };

describe('normalizeOptions', () => {
  it('fills defaults', () => {
    expect(normalizeOptions(base)).toEqual({
      input: { mode: 'vmx', paths: ['/src/guest.vmx'] },
      output: {
        mode: 'local',
        storage: '/out',
        format: 'raw',
        allocation: 'sparse',
        networkMapping: { networks: [], bridges: [], macs: [] },
      },
      printSource: false,
      verbose: false,
      trace: false,
      quiet: false,
      verify: { checksum: false, boot: false },
      logFile: { kind: 'default' },
    });
  });
  it.each<[Partial<RawOptions>, RegExp]>([
    [{ positional: [] }, /No source given/],
    [{ positional: ['a.vmx', 'b.vmx'] }, /-i vmx takes one source, but 2 were given/],
    [{ if: 'raw' }, /-if only applies to -i disk/],
    [{ o: undefined }, /No output mode given: add "-o local -os DIR"/],
    [{ oc: 'qemu:///system' }, /-oc only applies to -o libvirt/],
    [{ o: 'null' }, /-o null takes no -os/],
    [{ o: 'libvirt', network: [':x'] }, /Invalid "-n :x"/],
    [{ o: 'glance' }, /^-o glance is not supported by v2v: convert with "-o local -of qcow2 -os DIR"/],
    [{ o: 'nowhere' }, /Unknown output mode "-o nowhere"/],
    [{ os: undefined }, /needs an output directory: add "-os DIR"/],
    [{ of: 'vmdk' }, /Unsupported output format "-of vmdk"/],
    [{ oa: 'thick' }, /Unknown allocation "-oa thick"/],
    [{ on: '../etc' }, /Invalid guest name/],
    [{ quiet: true, verbose: true }, /-q cannot be combined/],
  ])('rejects %j', (patch, message) => {
    const call = (): unknown => normalizeOptions({ ...base, ...patch });
    expect(call).toThrow(UsageError);
    expect(call).toThrow(message);
  });
});

describe('normalizeOptions per mode', () => {
  it('takes several images for -i disk, with -if', () => {
    const o = normalizeOptions({ ...base, i: 'disk', if: 'raw', positional: ['/a.img', '/b.img'] });
    expect(o.input).toEqual({ mode: 'disk', paths: ['/a.img', '/b.img'], format: 'raw' });
  });
  it('treats -os as a pool name for -o libvirt, defaulting to "default"', () => {
    expect(normalizeOptions({ ...base, o: 'libvirt', os: 'images', oc: 'qemu:///session' }).output).toMatchObject({
      storage: 'images',
      connection: 'qemu:///session',
    });
    expect(normalizeOptions({ ...base, o: 'libvirt', os: undefined }).output.storage).toBe('default');
  });
  it('needs no output for --print-source', () => {
    expect(normalizeOptions({ positional: ['/g.vmx'], printSource: true }).output.mode).toBe('null');
  });
  it('keeps network rules', () => {
    const o = normalizeOptions({ ...base, network: ['VM Network:default'], bridge: ['br0'], mac: ['00:0c:29:3a:5b:7c:bridge:br1'] });
    expect(o.output.networkMapping).toEqual({ networks: ['VM Network:default'], bridges: ['br0'], macs: ['00:0c:29:3a:5b:7c:bridge:br1'] });
  });
});
