/**
 * Windows network settings (issue #12): reading adapters' TCP/IP settings from
 * real `hivexregedit --export` output, tying adapters to source NICs, the
 * `--mac MAC:ip:...` parser, and the first-boot network script.
 *
 * The .export files in fixtures/windows/ are recorded hivexregedit output:
 * an empty hive (test/fixtures/windows/make-empty-hive.pl) merged with
 * `hivexregedit --merge` from tcpip-sample.reg (sample-*.export, ControlSet002)
 * or from the Windows test guest's test/fixtures/windows/system.reg
 * (fixture-*.export), then `hivexregedit --export --max-depth 2` of the
 * network class key and of Tcpip\Parameters\Interfaces, as src/convert/windows/convert.ts does.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { firstbootScript, networkScript } from '../../src/convert/windows/firstboot.js';
import {
  maskToPrefix,
  planWindowsNetwork,
  readWindowsAdapters,
  tieAdapters,
  vmwareNicModel,
  type WindowsAdapter,
} from '../../src/convert/windows/network.js';
import { parseRegExport } from '../../src/convert/windows/registry.js';
import { recordUnappliedStaticIps } from '../../src/convert/linux/network/static-report.js';
import { UsageError } from '../../src/errors.js';
import type { SourceNic, StaticIp } from '../../src/model.js';
import { parseNetworkMapping } from '../../src/output/networks.js';

const PREFIX = 'HKEY_LOCAL_MACHINE\\SYSTEM';
const recorded = (name: string): ReturnType<typeof parseRegExport> =>
  parseRegExport(readFileSync(new URL(`fixtures/windows/${name}.export`, import.meta.url), 'utf8'), PREFIX);
const sample = (): ReturnType<typeof readWindowsAdapters> =>
  readWindowsAdapters(recorded('sample-class'), recorded('sample-interfaces'), 'ControlSet002');
const fixture = (): ReturnType<typeof readWindowsAdapters> =>
  readWindowsAdapters(recorded('fixture-class'), recorded('fixture-interfaces'), 'ControlSet001');

const A = '{AAAAAAAA-0000-4000-8000-000000000001}';
const B = '{AAAAAAAA-0000-4000-8000-000000000002}';
const C = '{AAAAAAAA-0000-4000-8000-000000000003}';
const D = '{AAAAAAAA-0000-4000-8000-000000000004}';
const STATIC = '{3F1B2C4D-5E6F-4A7B-8C9D-0E1F2A3B4C5D}';
const DHCP = '{9A8B7C6D-5E4F-4321-A0B1-C2D3E4F5A6B7}';
const SCRIPT = 'C:\\Program Files\\v2v\\Firstboot\\network.ps1';
/** The Windows test guest's source NICs (test/e2e/windows.test.ts). */
const FIXTURE_NICS: SourceNic[] = [
  { mac: '00:50:56:aa:0b:01', model: 'vmxnet3', network: 'VM Network' },
  { mac: '00:50:56:aa:0b:02', model: 'e1000e', network: 'VM Network' },
];

describe('readWindowsAdapters: TCP/IP settings from the SYSTEM hive', () => {
  it('reads static (two addresses, masks as prefixes, first gateway, space-separated DNS), DHCP, MAC by NetworkAddress, and a non-VMware model', () => {
    const { adapters } = sample();
    expect(adapters).toEqual<WindowsAdapter[]>([
      {
        guid: A,
        description: 'vmxnet3 Ethernet Adapter',
        model: 'vmxnet3',
        dhcp: false,
        staticIps: [
          { address: '192.0.2.10', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53', '192.0.2.54'] },
          { address: '192.0.2.11', prefix: 25, dns: [] },
        ],
      },
      {
        guid: B,
        description: 'vmxnet3 Ethernet Adapter #2',
        model: 'vmxnet3',
        dhcp: true,
        staticIps: [],
        dhcpManualDns: ['198.51.100.53'],
      },
      {
        guid: C,
        description: 'Intel(R) PRO/1000 MT Network Connection',
        model: 'e1000',
        mac: '00:0c:29:12:34:56',
        dhcp: false,
        staticIps: [{ address: '203.0.113.5', prefix: 16, dns: [] }],
      },
      {
        guid: D,
        description: 'Microsoft Hyper-V Network Adapter',
        dhcp: false,
        staticIps: [{ address: '198.51.100.9', prefix: 30, gateway: '198.51.100.10', dns: [] }],
      },
    ]);
  });

  it('says what it could not carry over: a second gateway, a mask that is not a prefix', () => {
    expect(sample().problems).toEqual([
      `vmxnet3 Ethernet Adapter ${A}: only the first of its default gateways (192.0.2.1, 192.0.2.254) is re-applied`,
      `Intel(R) PRO/1000 MT Network Connection ${C}: address 203.0.113.6 has the subnet mask "255.0.255.0", which is not a prefix; it is not re-applied`,
    ]);
  });

  it('on the test guest: the static vmxnet3 and the DHCP e1000e; not the WAN miniport (no settings), 0.0.0.0, nor the Tcpip key no adapter claims', () => {
    expect(fixture()).toEqual({
      adapters: [
        {
          guid: STATIC,
          description: 'vmxnet3 Ethernet Adapter',
          model: 'vmxnet3',
          dhcp: false,
          staticIps: [{ address: '192.0.2.20', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53', '198.51.100.53'] }],
        },
        {
          guid: DHCP,
          description: 'Intel(R) 82574L Gigabit Network Connection',
          model: 'e1000e',
          mac: '00:50:56:aa:0b:02',
          dhcp: true,
          staticIps: [],
        },
      ],
      problems: [],
    });
  });

  it('reads nothing from another control set or from empty exports', () => {
    expect(readWindowsAdapters(recorded('sample-class'), recorded('sample-interfaces'), 'ControlSet001').adapters).toEqual([]);
    expect(readWindowsAdapters(new Map(), new Map(), 'ControlSet001')).toEqual({ adapters: [], problems: [] });
  });

  it('maps PCI ids to VMware NIC models and masks to prefixes', () => {
    expect(vmwareNicModel('PCI\\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01')).toBe('vmxnet3');
    expect(vmwareNicModel('pci\\ven_8086&dev_100f')).toBe('e1000');
    expect(vmwareNicModel('pci\\ven_8086&dev_10d3&subsys_07d015ad')).toBe('e1000e');
    expect(vmwareNicModel('pci\\ven_15ad&dev_0720')).toBe('vmxnet');
    expect(vmwareNicModel('pci\\ven_1af4&dev_1000')).toBeUndefined();
    expect(vmwareNicModel('ms_ndiswanip')).toBeUndefined();
    expect([
      maskToPrefix('255.255.255.255'),
      maskToPrefix('255.255.255.0'),
      maskToPrefix('255.255.240.0'),
      maskToPrefix('0.0.0.0'),
    ]).toEqual([32, 24, 20, 0]);
    expect([maskToPrefix('255.0.255.0'), maskToPrefix('255.255.256.0'), maskToPrefix('255.255'), maskToPrefix('')]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('tieAdapters: which source NIC each adapter is', () => {
  const nics: SourceNic[] = [
    { mac: '00:50:56:00:00:01', model: 'vmxnet3' },
    { mac: '00:50:56:00:00:02', model: 'vmxnet3' },
    { mac: '00:0c:29:12:34:56', model: 'e1000' },
  ];

  it('by MAC when the registry has one; two vmxnet3 adapters for two vmxnet3 NICs stay untied, naming both sides; an unknown model with several adapters too', () => {
    const ties = tieAdapters(sample().adapters, nics);
    expect(ties.map((t) => [t.adapter.guid, t.nic?.mac, t.matchedBy])).toEqual([
      [A, undefined, undefined],
      [B, undefined, undefined],
      [C, '00:0c:29:12:34:56', 'registry'],
      [D, undefined, undefined],
    ]);
    expect(ties[0]?.note).toBe(
      `2 vmxnet3 adapter(s) in the guest (${A} (vmxnet3 Ethernet Adapter), ${B} (vmxnet3 Ethernet Adapter #2)) and 2 vmxnet3 NIC(s) in the source (00:50:56:00:00:01 vmxnet3, 00:50:56:00:00:02 vmxnet3), and no MAC in the registry to tell which is which`,
    );
    expect(ties[3]?.note).toBe(
      'the registry has no MAC for it, its model is not a VMware NIC, and the guest has 4 adapter(s) with settings for 3 source NIC(s) (00:50:56:00:00:01 vmxnet3, 00:50:56:00:00:02 vmxnet3, 00:0c:29:12:34:56 e1000)',
    );
  });

  it('the only adapter and the only NIC of a model are tied ("only-nic"), whatever other models there are', () => {
    const [a, , c] = sample().adapters;
    const ties = tieAdapters([a!, { ...c!, mac: undefined }], [nics[0]!, nics[2]!]);
    expect(ties.map((t) => [t.nic?.mac, t.matchedBy])).toEqual([
      ['00:50:56:00:00:01', 'only-nic'],
      ['00:0c:29:12:34:56', 'only-nic'],
    ]);
  });

  it('a MAC tie takes its NIC out of the model count', () => {
    const [a, b] = sample().adapters;
    const ties = tieAdapters([a!, { ...b!, mac: '00:50:56:00:00:02' }], nics.slice(0, 2));
    expect(ties.map((t) => [t.adapter.guid, t.nic?.mac, t.matchedBy])).toEqual([
      [A, '00:50:56:00:00:01', 'only-nic'],
      [B, '00:50:56:00:00:02', 'registry'],
    ]);
  });

  it('one adapter and one NIC of no known model (a bare disk source) are tied; a NetworkAddress no NIC has does not tie', () => {
    const d = sample().adapters[3]!;
    expect(tieAdapters([d], [{ network: 'default' }]).map((t) => t.matchedBy)).toEqual(['only-nic']);
    const c = sample().adapters[2]!;
    expect(tieAdapters([c], [{ mac: '52:54:00:00:00:01', model: 'e1000' }]).map((t) => [t.nic?.mac, t.matchedBy])).toEqual([
      ['52:54:00:00:00:01', 'only-nic'],
    ]);
    expect(
      tieAdapters(
        [c],
        [
          { mac: '52:54:00:00:00:01', model: 'vmxnet3' },
          { mac: '52:54:00:00:00:02', model: 'vmxnet3' },
        ],
      )[0]?.nic,
    ).toBeUndefined();
  });
});

describe('planWindowsNetwork: what the first-boot script re-applies, reports and warnings', () => {
  it('the test guest: the static adapter on its NIC by model, the DHCP one by MAC and left alone', () => {
    const plan = planWindowsNetwork(fixture().adapters, FIXTURE_NICS, new Map(), SCRIPT);
    expect(plan.apply).toEqual([
      {
        mac: '00:50:56:aa:0b:01',
        staticIps: [{ address: '192.0.2.20', prefix: 24, gateway: '192.0.2.1', dns: ['192.0.2.53', '198.51.100.53'] }],
      },
    ]);
    expect(plan.reports).toEqual([
      {
        mac: '00:50:56:aa:0b:01',
        names: [STATIC, 'vmxnet3 Ethernet Adapter'],
        matchedBy: 'only-nic',
        files: [SCRIPT],
        staticIps: plan.apply[0]!.staticIps,
        dhcp: false,
        source: 'guest',
      },
      {
        mac: '00:50:56:aa:0b:02',
        names: [DHCP, 'Intel(R) 82574L Gigabit Network Connection'],
        matchedBy: 'registry',
        files: [],
        staticIps: [],
        dhcp: true,
        source: 'guest',
      },
    ]);
    expect(plan.warnings).toEqual([]);
  });

  it('--mac MAC:ip: replaces what was read (static or DHCP adapter), and a MAC the source does not have is warned about and ignored', () => {
    const options = parseNetworkMapping({
      networks: [],
      bridges: [],
      macs: [
        '00:50:56:AA:0B:01:ip:198.51.100.20,198.51.100.1,24,198.51.100.53',
        '00:50:56:aa:0b:02:ip:2001:db8::20,2001:db8::1,64',
        '00:50:56:aa:0b:99:ip:192.0.2.99',
      ],
    }).staticIps;
    const plan = planWindowsNetwork(fixture().adapters, FIXTURE_NICS, options, SCRIPT);
    expect(plan.apply).toEqual([
      { mac: '00:50:56:aa:0b:01', staticIps: [{ address: '198.51.100.20', gateway: '198.51.100.1', prefix: 24, dns: ['198.51.100.53'] }] },
      { mac: '00:50:56:aa:0b:02', staticIps: [{ address: '2001:db8::20', gateway: '2001:db8::1', prefix: 64, dns: [] }] },
    ]);
    expect(plan.reports.map((r) => [r.mac, r.matchedBy, r.source, r.dhcp, r.files])).toEqual([
      ['00:50:56:aa:0b:01', 'only-nic', 'option', false, [SCRIPT]],
      ['00:50:56:aa:0b:02', 'registry', 'option', false, [SCRIPT]],
    ]);
    expect(plan.warnings).toEqual([
      '--mac 00:50:56:aa:0b:99:ip:... names no NIC of the source (its MACs: 00:50:56:aa:0b:01, 00:50:56:aa:0b:02): it is ignored',
    ]);
  });

  it('--mac MAC:ip: for a NIC no adapter was tied to gets its own report (matched by option)', () => {
    const options = new Map<string, StaticIp[]>([['00:50:56:aa:0b:01', [{ address: '192.0.2.30', dns: [] }]]]);
    const plan = planWindowsNetwork([], FIXTURE_NICS, options, SCRIPT);
    expect(plan.reports).toEqual([
      {
        mac: '00:50:56:aa:0b:01',
        names: [],
        matchedBy: 'option',
        files: [SCRIPT],
        staticIps: [{ address: '192.0.2.30', dns: [] }],
        dhcp: false,
        source: 'option',
      },
    ]);
  });

  it('an ambiguous static adapter is warned about with what to do, never guessed; DHCP with manual DNS and a NIC with no MAC are warned about', () => {
    const plan = planWindowsNetwork(
      sample().adapters,
      [
        { mac: '00:50:56:00:00:01', model: 'vmxnet3' },
        { mac: '00:50:56:00:00:02', model: 'vmxnet3' },
      ],
      new Map(),
      SCRIPT,
    );
    expect(plan.apply).toEqual([]);
    expect(plan.warnings[0]).toBe(
      `Windows adapter ${A} (vmxnet3 Ethernet Adapter) has the static address 192.0.2.10/24, 192.0.2.11/25, but 2 vmxnet3 adapter(s) in the guest (${A} (vmxnet3 Ethernet Adapter), ${B} (vmxnet3 Ethernet Adapter #2)) and 2 vmxnet3 NIC(s) in the source (00:50:56:00:00:01 vmxnet3, 00:50:56:00:00:02 vmxnet3), and no MAC in the registry to tell which is which: set it on the new adapter after the first boot, or convert again with --mac MAC:ip:192.0.2.10,...`,
    );
    expect(plan.reports.every((r) => r.mac === undefined && r.files.length === 0 && r.note?.startsWith('not tied to a source NIC: '))).toBe(
      true,
    );

    const b = sample().adapters[1]!;
    const dns = planWindowsNetwork([b], [{ mac: '00:50:56:00:00:02', model: 'vmxnet3' }], new Map(), SCRIPT);
    expect(dns.warnings).toEqual([
      `Windows adapter ${B} (vmxnet3 Ethernet Adapter #2) uses DHCP with the DNS servers 198.51.100.53 set by hand: they are not re-applied; set them on the new adapter after the first boot`,
    ]);
    expect(dns.apply).toEqual([]);

    const d = sample().adapters[3]!;
    const noMac = planWindowsNetwork([d], [{ network: 'default' }], new Map(), SCRIPT);
    expect(noMac.apply).toEqual([]);
    expect(noMac.reports[0]).toMatchObject({
      matchedBy: 'only-nic',
      note: 'the source NIC has no MAC: the new adapter cannot be found by MAC',
    });
    expect(noMac.warnings).toEqual([
      `Windows adapter ${D} (Microsoft Hyper-V Network Adapter) has the static address 198.51.100.9/30, but its source NIC has no MAC, so the new adapter cannot be found at first boot: set the address after the first boot`,
    ]);
  });
});

describe('--mac MAC:ip:ADDRESS[,GATEWAY[,PREFIX[,DNS...]]]', () => {
  const ips = (...macs: string[]): Map<string, StaticIp[]> => new Map(parseNetworkMapping({ networks: [], bridges: [], macs }).staticIps);

  it.each<[string, StaticIp]>([
    ['192.0.2.10', { address: '192.0.2.10', dns: [] }],
    ['192.0.2.10,192.0.2.1', { address: '192.0.2.10', gateway: '192.0.2.1', dns: [] }],
    ['192.0.2.10,192.0.2.1,24', { address: '192.0.2.10', gateway: '192.0.2.1', prefix: 24, dns: [] }],
    [
      '192.0.2.10,192.0.2.1,24,192.0.2.53,2001:db8::53',
      { address: '192.0.2.10', gateway: '192.0.2.1', prefix: 24, dns: ['192.0.2.53', '2001:db8::53'] },
    ],
    ['192.0.2.10,,0', { address: '192.0.2.10', prefix: 0, dns: [] }],
    ['2001:db8::10,2001:db8::1,64,2001:db8::53', { address: '2001:db8::10', gateway: '2001:db8::1', prefix: 64, dns: ['2001:db8::53'] }],
    ['fe80::1,,128', { address: 'fe80::1', prefix: 128, dns: [] }],
  ])('ip:%s', (fields, expected) => {
    expect(ips(`52:54:00:12:34:56:ip:${fields}`)).toEqual(new Map([['52:54:00:12:34:56', [expected]]]));
  });

  it('collects repeated options for one MAC (lower-cased) in order, beside a network rule for the same MAC', () => {
    const rules = parseNetworkMapping({
      networks: [],
      bridges: [],
      macs: ['52:54:00:AB:CD:EF:ip:192.0.2.10,192.0.2.1,24', '52:54:00:ab:cd:ef:network:lan', '52:54:00:ab:cd:ef:ip:2001:db8::10,,64'],
    });
    expect(rules.staticIps.get('52:54:00:ab:cd:ef')?.map((ip) => ip.address)).toEqual(['192.0.2.10', '2001:db8::10']);
    expect(rules.byMac.get('52:54:00:ab:cd:ef')).toEqual({ type: 'network', name: 'lan' });
  });

  const form = 'write "--mac 52:54:00:12:34:56:ip:192.0.2.10[,GATEWAY[,PREFIX[,DNS...]]]".';
  it.each<[string, string]>([
    ['52:54:00:12:34:56:ip:', `Invalid "--mac 52:54:00:12:34:56:ip:": the address after "ip:" is missing; ${form}`],
    ['52:54:00:12:34:56:ip:,192.0.2.1', `Invalid "--mac 52:54:00:12:34:56:ip:,192.0.2.1": the address after "ip:" is missing; ${form}`],
    [
      '52:54:00:12:34:56:ip:192.0.2.300',
      `Invalid "--mac 52:54:00:12:34:56:ip:192.0.2.300": "192.0.2.300" is not an IPv4 or IPv6 address; ${form}`,
    ],
    [
      '52:54:00:12:34:56:ip:192.0.2.10/24',
      `Invalid "--mac 52:54:00:12:34:56:ip:192.0.2.10/24": "192.0.2.10/24" is not an IPv4 or IPv6 address; ${form}`,
    ],
    [
      '52:54:00:12:34:56:ip:192.0.2.10,gw',
      `Invalid "--mac 52:54:00:12:34:56:ip:192.0.2.10,gw": the gateway "gw" is not an IP address; ${form}`,
    ],
    [
      '52:54:00:12:34:56:ip:192.0.2.10,2001:db8::1',
      `Invalid "--mac 52:54:00:12:34:56:ip:192.0.2.10,2001:db8::1": the gateway "2001:db8::1" is not an IPv4 address like 192.0.2.10; ${form}`,
    ],
    [
      '52:54:00:12:34:56:ip:192.0.2.10,192.0.2.1,33',
      `Invalid "--mac 52:54:00:12:34:56:ip:192.0.2.10,192.0.2.1,33": the prefix length "33" must be a whole number from 0 to 32 for an IPv4 address; ${form}`,
    ],
    [
      '52:54:00:12:34:56:ip:192.0.2.10,192.0.2.1,255.255.255.0',
      `Invalid "--mac 52:54:00:12:34:56:ip:192.0.2.10,192.0.2.1,255.255.255.0": the prefix length "255.255.255.0" must be a whole number from 0 to 32 for an IPv4 address; ${form}`,
    ],
    [
      '52:54:00:12:34:56:ip:2001:db8::10,,129',
      `Invalid "--mac 52:54:00:12:34:56:ip:2001:db8::10,,129": the prefix length "129" must be a whole number from 0 to 128 for an IPv6 address; ${form}`,
    ],
    [
      '52:54:00:12:34:56:ip:192.0.2.10,192.0.2.1,24,dns.example',
      `Invalid "--mac 52:54:00:12:34:56:ip:192.0.2.10,192.0.2.1,24,dns.example": the DNS server "dns.example" is not an IP address; ${form}`,
    ],
    [
      '52:54:00:12:34:56:static:192.0.2.10',
      'Unsupported "--mac 52:54:00:12:34:56:static:192.0.2.10": write "MAC:network:NAME", "MAC:bridge:NAME" or "MAC:ip:ADDRESS[,GATEWAY[,PREFIX[,DNS...]]]".',
    ],
  ])('rejects %s with one UsageError sentence', (spec, message) => {
    const call = (): unknown => ips(spec);
    expect(call).toThrow(UsageError);
    expect(call).toThrow(message);
  });

  it('rejects the same address twice for one MAC', () => {
    expect(() => ips('52:54:00:12:34:56:ip:192.0.2.10', '52:54:00:12:34:56:ip:192.0.2.10,192.0.2.1')).toThrow(
      'Address 192.0.2.10 is given twice for MAC 52:54:00:12:34:56 by --mac: keep only one "ip:" rule for it.',
    );
  });
});

describe('the first-boot network script', () => {
  it('sets exactly the static adapter of the test guest, found by its MAC, after waiting for it', () => {
    const plan = planWindowsNetwork(fixture().adapters, FIXTURE_NICS, new Map(), SCRIPT);
    expect(networkScript(plan.apply)).toBe(
      [
        '# Written by v2v when this guest was converted to run on KVM: sets the static',
        '# TCP/IP settings each source NIC had again on the new adapter with its MAC.',
        '# Run once by firstboot.bat after the drivers are installed; output in firstboot.log.',
        '',
        '# A new adapter appears once Plug and Play has installed its driver: wait for it.',
        'function Wait-V2vAdapter([string]$Mac) {',
        '  for ($try = 0; $try -lt 120; $try++) {',
        '    $adapter = Get-NetAdapter -ErrorAction SilentlyContinue | Where-Object MacAddress -eq $Mac | Select-Object -First 1',
        '    if ($adapter) { return $adapter }',
        '    Start-Sleep -Seconds 5',
        '  }',
        '  Write-Output "v2v: no adapter with MAC $Mac appeared in 600 s: its static settings were not set"',
        '  return $null',
        '}',
        '',
        '# 00:50:56:aa:0b:01: 192.0.2.20/24 via 192.0.2.1; DNS 192.0.2.53, 198.51.100.53',
        "$adapter = Wait-V2vAdapter '00-50-56-AA-0B-01'",
        'if ($adapter) {',
        '  $i = $adapter.ifIndex',
        '  Write-Output "v2v: setting the static TCP/IP settings of $($adapter.Name) (MAC 00-50-56-AA-0B-01)"',
        '  Set-NetIPInterface -InterfaceIndex $i -AddressFamily IPv4 -Dhcp Disabled',
        '  Remove-NetIPAddress -InterfaceIndex $i -AddressFamily IPv4 -Confirm:$false -ErrorAction SilentlyContinue',
        "  Remove-NetRoute -InterfaceIndex $i -DestinationPrefix '0.0.0.0/0' -Confirm:$false -ErrorAction SilentlyContinue",
        "  New-NetIPAddress -InterfaceIndex $i -AddressFamily IPv4 -IPAddress '192.0.2.20' -PrefixLength 24 -DefaultGateway '192.0.2.1'",
        "  Set-DnsClientServerAddress -InterfaceIndex $i -ServerAddresses '192.0.2.53','198.51.100.53'",
        '}',
        '',
      ].join('\r\n'),
    );
  });

  it('IPv6 only: no IPv4 reset; several addresses with default prefixes (24, 64) and DNS merged once', () => {
    const script = networkScript([
      { mac: '52:54:00:00:00:01', staticIps: [{ address: '2001:db8::10', dns: ['2001:db8::53'] }] },
      {
        mac: '52:54:00:00:00:02',
        staticIps: [
          { address: '192.0.2.10', gateway: '192.0.2.1', dns: ['192.0.2.53'] },
          { address: '2001:db8::11', prefix: 56, dns: ['192.0.2.53', '2001:db8::53'] },
        ],
      },
    ]);
    const body = script.split('\r\n').slice(14);
    expect(body).toEqual([
      '',
      '# 52:54:00:00:00:01: 2001:db8::10/64; DNS 2001:db8::53',
      "$adapter = Wait-V2vAdapter '52-54-00-00-00-01'",
      'if ($adapter) {',
      '  $i = $adapter.ifIndex',
      '  Write-Output "v2v: setting the static TCP/IP settings of $($adapter.Name) (MAC 52-54-00-00-00-01)"',
      "  New-NetIPAddress -InterfaceIndex $i -AddressFamily IPv6 -IPAddress '2001:db8::10' -PrefixLength 64",
      "  Set-DnsClientServerAddress -InterfaceIndex $i -ServerAddresses '2001:db8::53'",
      '}',
      '',
      '# 52:54:00:00:00:02: 192.0.2.10/24 via 192.0.2.1, 2001:db8::11/56; DNS 192.0.2.53, 2001:db8::53',
      "$adapter = Wait-V2vAdapter '52-54-00-00-00-02'",
      'if ($adapter) {',
      '  $i = $adapter.ifIndex',
      '  Write-Output "v2v: setting the static TCP/IP settings of $($adapter.Name) (MAC 52-54-00-00-00-02)"',
      '  Set-NetIPInterface -InterfaceIndex $i -AddressFamily IPv4 -Dhcp Disabled',
      '  Remove-NetIPAddress -InterfaceIndex $i -AddressFamily IPv4 -Confirm:$false -ErrorAction SilentlyContinue',
      "  Remove-NetRoute -InterfaceIndex $i -DestinationPrefix '0.0.0.0/0' -Confirm:$false -ErrorAction SilentlyContinue",
      "  New-NetIPAddress -InterfaceIndex $i -AddressFamily IPv4 -IPAddress '192.0.2.10' -PrefixLength 24 -DefaultGateway '192.0.2.1'",
      "  New-NetIPAddress -InterfaceIndex $i -AddressFamily IPv6 -IPAddress '2001:db8::11' -PrefixLength 56",
      "  Set-DnsClientServerAddress -InterfaceIndex $i -ServerAddresses '192.0.2.53','2001:db8::53'",
      '}',
      '',
    ]);
  });

  it('firstboot.bat runs it with PowerShell right after pnputil, before qemu-ga and the VMware Tools removal', () => {
    const lines = firstbootScript({
      installDrivers: true,
      qemuGaMsi: 'qemu-ga-x86_64.msi',
      uninstallCommands: ['msiexec /x {X} /qn /norestart'],
      network: true,
    }).split('\r\n');
    const log = '"C:\\Program Files\\v2v\\Firstboot\\firstboot.log"';
    expect(lines.slice(3, 6)).toEqual([
      `pnputil -i -a C:\\Windows\\Drivers\\VirtIO\\*.inf >> ${log} 2>&1`,
      `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\\Program Files\\v2v\\Firstboot\\network.ps1" >> ${log} 2>&1`,
      expect.stringMatching(/^msiexec \/i /),
    ]);
    expect(firstbootScript({ installDrivers: true, uninstallCommands: [] })).not.toContain('powershell');
  });
});

describe('recordUnappliedStaticIps: --mac ip on guests whose converter does not apply it', () => {
  it("adds a report per unapplied MAC or a note to the NIC's own report, and one warning; option reports already there are left alone", () => {
    const staticIps = new Map<string, StaticIp[]>([
      ['52:54:00:00:00:01', [{ address: '192.0.2.10', prefix: 24, dns: [] }]],
      ['52:54:00:00:00:02', [{ address: '192.0.2.11', dns: [] }]],
      ['52:54:00:00:00:03', [{ address: '192.0.2.12', dns: [] }]],
    ]);
    const own = [
      {
        mac: '52:54:00:00:00:02',
        names: ['ens192'],
        matchedBy: 'pci-slot' as const,
        pinned: 'ens192',
        files: ['/etc/systemd/network/10-v2v-ens192.link'],
        staticIps: [],
        source: 'guest' as const,
      },
      {
        mac: '52:54:00:00:00:03',
        names: [],
        matchedBy: 'option' as const,
        files: [],
        staticIps: [{ address: '192.0.2.12', dns: [] }],
        source: 'option' as const,
      },
    ];
    const { reports, warning } = recordUnappliedStaticIps(own, staticIps, 'not supported here');
    expect(reports).toEqual([
      { ...own[0], note: '--mac 52:54:00:00:00:02:ip:192.0.2.11 not applied: not supported here' },
      own[1],
      {
        mac: '52:54:00:00:00:01',
        names: [],
        matchedBy: 'option',
        files: [],
        staticIps: staticIps.get('52:54:00:00:00:01'),
        source: 'option',
        note: '--mac 52:54:00:00:00:01:ip:192.0.2.10 not applied: not supported here',
      },
    ]);
    expect(warning).toBe('--mac ...:ip: for 52:54:00:00:00:01, 52:54:00:00:00:02 is not applied: not supported here');
    expect(recordUnappliedStaticIps(own, new Map(), 'x')).toEqual({ reports: own });
  });
});
