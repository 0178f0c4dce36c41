import { describe, expect, it } from 'vitest';
import { addDriveWords, parseHash, parseListenPid, parseRemoteError, remoteBatchCommand, remoteCommand } from '../../drivers/guestfish.js';

describe('guestfish driver', () => {
  it('adds drives with discard, copy-on-read and cache mode', () => {
    expect(addDriveWords({ path: '/t/o.qcow2', format: 'qcow2', discard: true, cachemode: 'unsafe' })).toEqual([
      'add-drive',
      '/t/o.qcow2',
      'format:qcow2',
      'discard:enable',
      'cachemode:unsafe',
    ]);
    expect(addDriveWords({ path: '/s', format: 'raw', readonly: true, copyOnRead: true })).toEqual([
      'add-drive',
      '/s',
      'format:raw',
      'readonly:true',
      'copyonread:true',
    ]);
  });
  it('prefixes remote calls with "-" so a failure does not kill the server', () => {
    expect(remoteCommand(42, ['cat', '/etc/fstab'])).toEqual({ program: 'guestfish', args: ['--remote=42', '--', '-cat', '/etc/fstab'] });
    expect(remoteCommand(42, ['exit'], false).args).toEqual(['--remote=42', '--', 'exit']);
    // Several calls in one remote command: guestfish runs ':'-separated commands in order, each kept alive by '-'.
    expect(
      remoteBatchCommand(42, [
        ['download', '/a b', '/tmp/a'],
        ['download', '/c', '/tmp/c'],
      ]).args,
    ).toEqual(['--remote=42', '--', '-download', '/a b', '/tmp/a', ':', '-download', '/c', '/tmp/c']);
  });
  it('reads the server PID from --listen', () => {
    expect(parseListenPid('GUESTFISH_PID=7191; export GUESTFISH_PID\n')).toBe(7191);
    expect(() => parseListenPid('nothing')).toThrow(/no PID/);
  });
  it('turns libguestfs errors on stderr into messages (recorded output)', () => {
    expect(parseRemoteError("libguestfs: error: download: download_stub: you must call 'mount' first to mount the root filesystem\n")).toBe(
      "download: download_stub: you must call 'mount' first to mount the root filesystem",
    );
    expect(parseRemoteError('guestfish: remote: looks like the server is not running\n')).toBe(
      'guestfish: remote: looks like the server is not running',
    );
    expect(parseRemoteError('')).toBeUndefined();
    expect(parseRemoteError('libguestfs: warning: something harmless\n')).toBeUndefined();
  });
  it('parses key: value hashes', () => {
    expect(parseHash('/: /dev/sda1\n/srv: /dev/sda2\n')).toEqual([
      ['/', '/dev/sda1'],
      ['/srv', '/dev/sda2'],
    ]);
  });
});
