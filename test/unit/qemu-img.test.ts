import { describe, expect, it } from 'vitest';
import {
  convertCommand,
  createOverlayCommand,
  infoCommand,
  measureCommand,
  parseConvertProgress,
  parseInfo,
  parseMeasure,
} from '../../drivers/qemu-img.js';

describe('qemu-img argv builders', () => {
  it('creates a qcow2 overlay with an explicit backing format', () => {
    expect(createOverlayCommand('/t/o.qcow2', '/s/guest.vmdk', 'vmdk')).toEqual({
      program: 'qemu-img',
      args: ['create', '-q', '-f', 'qcow2', '-o', 'compat=1.1,lazy_refcounts=on', '-F', 'vmdk', '-b', '/s/guest.vmdk', '/t/o.qcow2'],
    });
  });
  it('pins the format for info when known', () => {
    expect(infoCommand('/x', 'raw').args).toEqual(['info', '--output=json', '-f', 'raw', '/x']);
    expect(infoCommand('/x').args).toEqual(['info', '--output=json', '/x']);
  });
  it('measures for the output format', () => {
    expect(measureCommand('/o', 'qcow2', 'raw').args).toEqual(['measure', '--output=json', '-f', 'qcow2', '-O', 'raw', '/o']);
  });
  it('converts with progress, out-of-order writes and preallocation', () => {
    expect(
      convertCommand({ source: '/o', sourceFormat: 'qcow2', target: '/t', targetFormat: 'qcow2', preallocation: 'metadata' }).args,
    ).toEqual(['convert', '-p', '-W', '-m', '8', '-f', 'qcow2', '-O', 'qcow2', '-o', 'compat=1.1,preallocation=metadata', '/o', '/t']);
    expect(convertCommand({ source: '/o', sourceFormat: 'qcow2', target: '/t', targetFormat: 'raw', coroutines: 4 }).args).toEqual([
      'convert',
      '-p',
      '-W',
      '-m',
      '4',
      '-f',
      'qcow2',
      '-O',
      'raw',
      '/o',
      '/t',
    ]);
  });
});

describe('qemu-img output parsers', () => {
  it('parses info JSON (recorded from qemu-img 7.2)', () => {
    const json =
      '{"virtual-size": 2147483648, "filename": "guest.vmdk", "cluster-size": 65536, "format": "vmdk", "actual-size": 681574400, "dirty-flag": false}';
    expect(parseInfo(json)).toEqual({ format: 'vmdk', virtualSize: 2147483648, actualSize: 681574400 });
  });
  it('keeps the backing file of an overlay', () => {
    const json = '{"virtual-size": 1048576, "format": "qcow2", "backing-filename": "/s/g.vmdk", "backing-filename-format": "vmdk"}';
    expect(parseInfo(json).backingFilename).toBe('/s/g.vmdk');
  });
  it('rejects output without a format', () => {
    expect(() => parseInfo('{"virtual-size": 1}')).toThrow(/unexpected qemu-img info output/);
  });
  it('parses measure JSON', () => {
    expect(parseMeasure('{\n    "bitmaps": 0,\n    "required": 681902080,\n    "fully-allocated": 2148073472\n}')).toEqual({
      required: 681902080,
      fullyAllocated: 2148073472,
    });
  });
  it('takes the last percentage of a progress chunk', () => {
    expect(parseConvertProgress('    (0.00/100%)\r    (12.50/100%)\r')).toBe(12.5);
    expect(parseConvertProgress('    (100.00/100%)\r')).toBe(100);
    expect(parseConvertProgress('no progress here')).toBeUndefined();
  });
});
