import { CniError, toCniError } from '../../../src/cni/errors.js';
import { buildAddResult, buildErrorResult, buildVersionResult } from '../../../src/cni/result.js';
import type { CniVersion } from '../../../src/cni/spec.js';
import type { Cidr, IfName, IpAddr, MacAddr, NetnsPath } from '../../../src/lib/brand.js';
import { stableMac } from '../../../src/lib/veth-name.js';
import { ifbName } from '../../../src/bandwidth/names.js';
import { dataplaneFor } from '../../../src/modes/registry.js';
import type { AttachmentResult } from '../../../src/modes/types.js';
import { node, spec, vpcAlloc, vprAlloc } from '../modes/fixtures.js';
import { BusyError, ConfigError, ConflictError, ExecError, ExhaustedError, InternalError, InvalidInputError, NotFoundError, UnavailableError } from '../../../src/lib/errors.js';

const GW = '169.254.1.1' as IpAddr;
/** What a veth dataplane reports (src/modes/common/veth-dataplane.ts vethResult). */
const outcome: AttachmentResult = {
  interfaces: [
    { name: 'cali0123456789a' as IfName, mac: 'ee:01:02:03:04:05' as MacAddr },
    { name: 'eth0' as IfName, mac: 'ee:0a:0b:0c:0d:0e' as MacAddr, sandbox: '/var/run/netns/p1' as NetnsPath, mtu: 1500 },
  ],
  ips: [{ interface: 1, address: '10.1.2.3/32' as Cidr, gateway: GW }],
  routes: [{ dst: '0.0.0.0/0' as Cidr, gw: GW }],
};

const interfaces = [
  { name: 'cali0123456789a', mac: 'ee:01:02:03:04:05' },
  { name: 'eth0', mac: 'ee:0a:0b:0c:0d:0e', sandbox: '/var/run/netns/p1' },
];
const routes = [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }];

describe('buildAddResult', () => {
  it.each<[CniVersion, string]>([
    [
      '0.3.1',
      JSON.stringify({ cniVersion: '0.3.1', interfaces, ips: [{ version: '4', interface: 1, address: '10.1.2.3/32', gateway: '169.254.1.1' }], routes, dns: {} }),
    ],
    [
      '0.4.0',
      JSON.stringify({ cniVersion: '0.4.0', interfaces, ips: [{ version: '4', interface: 1, address: '10.1.2.3/32', gateway: '169.254.1.1' }], routes, dns: {} }),
    ],
    ['1.0.0', JSON.stringify({ cniVersion: '1.0.0', interfaces, ips: [{ interface: 1, address: '10.1.2.3/32', gateway: '169.254.1.1' }], routes, dns: {} })],
    [
      '1.1.0',
      JSON.stringify({
        cniVersion: '1.1.0',
        interfaces: [interfaces[0], { name: 'eth0', mac: 'ee:0a:0b:0c:0d:0e', mtu: 1500, sandbox: '/var/run/netns/p1' }],
        ips: [{ interface: 1, address: '10.1.2.3/32', gateway: '169.254.1.1' }],
        routes,
        dns: {},
      }),
    ],
  ])('encodes %s exactly', (version, golden) => {
    expect(JSON.stringify(buildAddResult(version, outcome))).toBe(golden);
  });

  it('points ips[].interface at the sandboxed interface', () => {
    const r = buildAddResult('1.0.0', outcome);
    const idx = r.ips[0]?.interface ?? -1;
    expect(r.interfaces[idx]?.sandbox).toBe('/var/run/netns/p1');
    expect(r.interfaces.filter((i) => i.sandbox === undefined)).toHaveLength(1);
  });
});

describe('the veth dataplanes report what the plugin printed before the Dataplane seam', () => {
  /** The result add.ts built itself before (host veth, pod end from the plan's veth op, /32, 169.254.1.1, ifbs). */
  function legacy(version: CniVersion, ip: string, mtu: number, ifb?: { name: string; mac: string }): string {
    const host = 'calic440f455693';
    const withMtu = version === '1.1.0';
    return JSON.stringify({
      cniVersion: version,
      interfaces: [
        { name: host, mac: stableMac(host, 'host') },
        { name: 'eth0', mac: stableMac(host, 'pod'), ...(withMtu ? { mtu } : {}), sandbox: spec.netns },
        ...(ifb !== undefined ? [ifb] : []),
      ],
      ips: [{ ...(version === '0.3.1' || version === '0.4.0' ? { version: '4' } : {}), interface: 1, address: `${ip}/32`, gateway: '169.254.1.1' }],
      routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
      dns: {},
    });
  }

  it.each<CniVersion>(['0.3.1', '0.4.0', '1.0.0', '1.1.0'])('vpc and veth-policy-routing, %s, byte for byte', (version) => {
    expect(JSON.stringify(buildAddResult(version, dataplaneFor('vpc').planSetup(spec, vpcAlloc, node).result))).toBe(legacy(version, vpcAlloc.ip, vpcAlloc.mtu));
    expect(JSON.stringify(buildAddResult(version, dataplaneFor('veth-policy-routing').planSetup(spec, vprAlloc, node).result))).toBe(legacy(version, vprAlloc.ip, vprAlloc.mtu));
  });

  it('with egress shaping, the host ifb follows the pod interface (no sandbox, its planned MAC)', () => {
    const shaped = { ...vpcAlloc, bandwidth: { egress: { rateBps: 1_000_000, burstBits: 80_000 } } };
    const ifb = ifbName(spec.containerId, spec.ifName);
    expect(JSON.stringify(buildAddResult('1.0.0', dataplaneFor('vpc').planSetup(spec, shaped, node).result))).toBe(
      legacy('1.0.0', vpcAlloc.ip, vpcAlloc.mtu, { name: ifb, mac: stableMac(ifb, 'ifb') }),
    );
  });
});

describe('VERSION and errors', () => {
  it('VERSION echoes the input version and lists the supported ones', () => {
    expect(JSON.stringify(buildVersionResult('0.4.0'))).toBe('{"cniVersion":"0.4.0","supportedVersions":["0.3.1","0.4.0","1.0.0","1.1.0"]}');
  });

  it('error JSON has cniVersion, code, msg and details only when set', () => {
    expect(JSON.stringify(buildErrorResult('1.0.0', new CniError(7, 'missing network name')))).toBe('{"cniVersion":"1.0.0","code":7,"msg":"missing network name"}');
    expect(buildErrorResult('0.4.0', new CniError(4, 'invalid characters in containerID', 'a/b'))).toEqual({
      cniVersion: '0.4.0',
      code: 4,
      msg: 'invalid characters in containerID',
      details: 'a/b',
    });
  });
});

describe('toCniError', () => {
  it.each<[string, unknown, number]>([
    ['env input', new InvalidInputError('CNI_IFNAME', 'bad'), 4],
    ['config input', new InvalidInputError('vethPrefix', 'bad'), 7],
    ['config error', new ConfigError('/etc/x', 'bad'), 7],
    ['busy', new BusyError('busy'), 11],
    ['unavailable', new UnavailableError('down'), 11],
    ['exhausted', new ExhaustedError('none left'), 11],
    ['exec', new ExecError(['ip', 'link'], 2, 'RTNETLINK answers: File exists'), 100],
    ['conflict', new ConflictError('other mode'), 102],
    ['not found', new NotFoundError('nope'), 103],
    ['internal', new InternalError('boom'), 104],
    ['untyped', new Error('bug'), 106],
    ['a thrown string', 'bug', 106],
  ])('%s', (_n, err, code) => {
    const c = toCniError(err);
    expect(c.code).toBe(code);
    expect(c.details).toContain(err instanceof Error ? err.message : String(err));
  });

  it('passes a CniError through unchanged', () => {
    const e = new CniError(101, 'CHECK failed', 'x');
    expect(toCniError(e)).toBe(e);
  });
});
