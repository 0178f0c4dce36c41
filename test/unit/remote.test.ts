import { describe, expect, it } from 'vitest';
import { nbdkitCommand, nbdUri } from '../../drivers/nbdkit.js';
import { oneLine, readRemoteCommand, sshCommand, sshHint } from '../../drivers/ssh.js';
import { UsageError } from '../../src/errors.js';
import { normalizeOptions } from '../../src/cli/options.js';
import { normalizeRemoteOptions } from '../../src/remote/options.js';
import { parseVmdkDescriptor } from '../../src/remote/remote-disk.js';
import { displayLocation, isRemoteSource, parseRemoteSource, siblingLocation } from '../../src/remote/url.js';
import { redactUrl } from '../../src/text/redact.js';

describe('parseRemoteSource', () => {
  it('parses ssh URLs with user, port and an absolute path', () => {
    expect(parseRemoteSource('ssh://root@esx.example:2222/vmfs/volumes/ds1/web/web.vmx')).toEqual({
      transport: 'ssh',
      user: 'root',
      host: 'esx.example',
      port: 2222,
      path: '/vmfs/volumes/ds1/web/web.vmx',
    });
    expect(parseRemoteSource('ssh://esx/vm/a%20b.vmx')).toEqual({ transport: 'ssh', host: 'esx', path: '/vm/a b.vmx' });
  });
  it('takes the userinfo out of https URLs', () => {
    expect(parseRemoteSource('https://bob:s3cr%40t@files.example/vms/g.vmx')).toEqual({
      transport: 'https',
      url: 'https://files.example/vms/g.vmx',
      user: 'bob',
      password: 's3cr@t',
    });
  });
  it('refuses a password in an ssh URL, without echoing it', () => {
    expect(() => parseRemoteSource('ssh://root:hunter2@h/x.vmx')).toThrow(UsageError);
    try {
      parseRemoteSource('ssh://root:hunter2@h/x.vmx');
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
      expect((error as Error).message).toMatch(/-ip FILE/);
    }
  });
  it('refuses other schemes and missing paths', () => {
    expect(() => parseRemoteSource('ftp://h/x.vmx')).toThrow(/Unsupported URL scheme/);
    expect(() => parseRemoteSource('ssh://h/')).toThrow(/names no file/);
  });
  it('tells remote sources from local paths', () => {
    expect(isRemoteSource('ssh://h/x')).toBe(true);
    expect(isRemoteSource('HTTPS://h/x')).toBe(true);
    expect(isRemoteSource('/srv/ssh://x')).toBe(false);
    expect(isRemoteSource('guest.vmx')).toBe(false);
  });
  it('resolves disks next to the .vmx, relative or absolute', () => {
    const ssh = parseRemoteSource('ssh://root@h:22/vm/web/web.vmx');
    expect(displayLocation(siblingLocation(ssh, 'web.vmdk'))).toBe('ssh://root@h:22/vm/web/web.vmdk');
    expect(displayLocation(siblingLocation(ssh, '/other/d.vmdk'))).toBe('ssh://root@h:22/other/d.vmdk');
    const web = parseRemoteSource('https://u:p@h/vm/web/web.vmx');
    const disk = siblingLocation(web, 'my disk.vmdk');
    expect(disk).toMatchObject({ url: 'https://h/vm/web/my%20disk.vmdk', password: 'p' });
    expect(displayLocation(disk)).toBe('https://u@h/vm/web/my%20disk.vmdk');
  });
});

describe('redactUrl', () => {
  it('hides passwords of every URL in a text', () => {
    expect(redactUrl('curl https://bob:pw@h/x and ssh://a:b@c/d failed')).toBe('curl https://bob:***@h/x and ssh://a:***@c/d failed');
  });
  it('leaves URLs without a password alone', () => {
    expect(redactUrl('https://bob@h:443/x https://h/y')).toBe('https://bob@h:443/x https://h/y');
  });
});

describe('nbdkitCommand', () => {
  it('serves HTTPS read-only, in the foreground, with retries and the CA, and no password in argv', () => {
    const cmd = nbdkitCommand(
      '/t/nbd0.sock',
      { plugin: 'curl', url: 'https://h/d.vmdk', user: 'bob', passwordFile: '/t/pw', caFile: '/ca.pem' },
      { retries: 3, delaySeconds: 2 },
    );
    expect(cmd).toEqual({
      program: 'nbdkit',
      args: [
        '-r',
        '-f',
        '--exit-with-parent',
        '-U',
        '/t/nbd0.sock',
        '--filter=retry',
        'curl',
        'url=https://h/d.vmdk',
        'user=bob',
        'password=+/t/pw',
        'cainfo=/ca.pem',
        'timeout=60',
        'retries=3',
        'retry-delay=2',
        'retry-exponential=yes',
      ],
    });
  });
  it('turns verification off only when asked', () => {
    expect(nbdkitCommand('/s', { plugin: 'curl', url: 'https://h/d' }).args).not.toContain('sslverify=false');
    expect(nbdkitCommand('/s', { plugin: 'curl', url: 'https://h/d', insecure: true }).args).toContain('sslverify=false');
  });
  it('serves an SSH file with key and known_hosts', () => {
    expect(
      nbdkitCommand('/s', {
        plugin: 'ssh',
        host: 'esx',
        port: 2222,
        user: 'root',
        path: '/vm/d-flat.vmdk',
        identity: '/k',
        knownHosts: '/kh',
      }).args,
    ).toEqual([
      '-r',
      '-f',
      '--exit-with-parent',
      '-U',
      '/s',
      '--filter=retry',
      'ssh',
      'host=esx',
      'port=2222',
      'user=root',
      'path=/vm/d-flat.vmdk',
      'identity=/k',
      'known-hosts=/kh',
      'timeout=60',
      'retries=6',
      'retry-delay=1',
      'retry-exponential=yes',
    ]);
  });
  it('names the socket as qemu wants it', () => {
    expect(nbdUri('/t/nbd0.sock')).toBe('nbd+unix:///?socket=/t/nbd0.sock');
  });
});

describe('ssh', () => {
  it('builds a non-interactive, host-key-verifying ssh command', () => {
    expect(
      sshCommand({ host: 'h', port: 2222, user: 'root', identity: '/k', knownHosts: '/kh' }, readRemoteCommand("/vm/it's.vmx", 1024)),
    ).toEqual({
      program: 'ssh',
      args: [
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'UserKnownHostsFile=/kh',
        '-o',
        'ConnectTimeout=30',
        '-o',
        'LogLevel=ERROR',
        '-o',
        'PasswordAuthentication=no',
        '-o',
        'KbdInteractiveAuthentication=no',
        '-i',
        '/k',
        '-o',
        'IdentitiesOnly=yes',
        '-p',
        '2222',
        '-l',
        'root',
        '--',
        'h',
        // Checked a regular file on the server before it is read (a FIFO would block, a device never end).
        `f='/vm/it'\\''s.vmx'; if [ -f "$f" ]; then k=; elif [ -d "$f" ]; then k='a directory'; elif [ -p "$f" ]; then k='a FIFO'; elif [ -c "$f" ]; then k='a character device'; elif [ -b "$f" ]; then k='a block device'; elif [ -S "$f" ]; then k='a socket'; elif [ -e "$f" ]; then k='not a regular file'; else k=missing; fi; if [ -n "$k" ]; then echo "v2v-not-a-file: $k" >&2; exit 97; fi; exec head -c 1024 -- "$f"`,
      ],
    });
  });
  it('gets a password through askpass, never argv', () => {
    const cmd = sshCommand({ host: 'h', askpass: '/t/askpass.sh' }, 'cat x');
    expect(cmd.args).toContain('BatchMode=no');
    expect(cmd.env).toMatchObject({ SSH_ASKPASS: '/t/askpass.sh', SSH_ASKPASS_REQUIRE: 'force' });
  });
  it('names the fix from ssh stderr, on one line', () => {
    expect(sshHint('Host key verification failed.')).toMatch(/--ssh-fingerprint/);
    expect(sshHint('root@h: Permission denied (publickey).')).toMatch(/--ssh-identity/);
    expect(oneLine('a.\nHost key verification failed.\n')).toBe('a; Host key verification failed.');
  });
});

describe('remote options', () => {
  const base = { o: 'null' as const };
  it('needs -it ssh for ssh:// and rejects flags that do not apply', () => {
    expect(() => normalizeRemoteOptions({}, 'vmx', ['ssh://h/x.vmx'])).toThrow(/needs "-it ssh"/);
    expect(() => normalizeRemoteOptions({ it: 'ssh', caFile: '/ca' }, 'vmx', ['ssh://h/x.vmx'])).toThrow(/--ca-file only apply to https/);
    expect(() => normalizeRemoteOptions({ sshIdentity: '/k' }, 'vmx', ['https://h/x.vmx'])).toThrow(/--ssh-identity only apply to -it ssh/);
    expect(() => normalizeRemoteOptions({ insecure: true }, 'vmx', ['/local/x.vmx'])).toThrow(/--insecure only apply to a remote source/);
    expect(() => normalizeRemoteOptions({ it: 'ssh' }, 'disk', ['ssh://h/x.img'])).toThrow(/-it ssh only applies to -i vmx/);
    expect(() => normalizeRemoteOptions({ it: 'ssh', sshFingerprint: 'MD5:aa' }, 'vmx', ['ssh://h/x.vmx'])).toThrow(
      /Invalid --ssh-fingerprint/,
    );
    expect(() => normalizeRemoteOptions({}, 'disk', ['https://h/a.img', '/b.img'])).toThrow(/cannot be mixed/);
    expect(() => normalizeRemoteOptions({ insecure: true, caFile: '/ca' }, 'vmx', ['https://h/x.vmx'])).toThrow(/give only one/);
  });
  it('normalizes paths and keeps URLs as given', () => {
    const o = normalizeOptions({
      ...base,
      i: 'vmx',
      positional: ['ssh://root@h/vm/x.vmx'],
      remote: { it: 'ssh', sshIdentity: 'id', knownHosts: '/kh' },
    });
    expect(o.input.paths).toEqual(['ssh://root@h/vm/x.vmx']);
    expect(o.input.remote).toEqual({ transport: 'ssh', identity: `${process.cwd()}/id`, knownHosts: '/kh', insecure: false });
    const h = normalizeOptions({ ...base, i: 'disk', positional: ['https://h/a.img'], remote: { insecure: true } });
    expect(h.input.remote).toEqual({ transport: 'https', insecure: true });
  });
  it('adds nothing for local sources', () => {
    expect(normalizeOptions({ ...base, i: 'vmx', positional: ['/x.vmx'] }).input).toEqual({ mode: 'vmx', paths: ['/x.vmx'] });
  });
});

describe('parseVmdkDescriptor', () => {
  it('reads createType, parent and extents', () => {
    const text =
      '# Disk DescriptorFile\nversion=1\nCID=47e00c99\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\n# Extent description\nRW 131072 FLAT "f-flat.vmdk" 0\n';
    expect(parseVmdkDescriptor(text)).toEqual({
      createType: 'monolithicFlat',
      parentCID: 'ffffffff',
      extents: [{ access: 'RW', sectors: 131072, type: 'FLAT', file: 'f-flat.vmdk', offset: 0 }],
    });
  });
  it('sees snapshots and several extents', () => {
    const d = parseVmdkDescriptor(
      'parentCID=1234abcd\ncreateType="twoGbMaxExtentSparse"\nRW 4192256 SPARSE "a-s001.vmdk"\nRW 4192256 SPARSE "a-s002.vmdk"\n',
    );
    expect(d.parentCID).toBe('1234abcd');
    expect(d.extents.map((e) => e.file)).toEqual(['a-s001.vmdk', 'a-s002.vmdk']);
  });
});
