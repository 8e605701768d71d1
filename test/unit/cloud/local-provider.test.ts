/**
 * The local provider in ipvlan mode: the node facts it reads (ENI ifindex and MAC through the injected sysfs reader),
 * the settings it takes from the config, and its refusal of a kernel without ipvlan (verify).
 */
import { describe, expect, it } from '@jest/globals';
import { createLocalProvider, ipvlanKernelProblem, type SysfsReader } from '../../../src/cloud/local/provider.js';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { ConfigError, UnavailableError } from '../../../src/lib/errors.js';
import type { Command, CommandRunner } from '../../../src/lib/exec.js';

const base = {
  mode: 'ipvlan',
  mtu: 1450,
  local: { eni: { link: 'eth1', gateway: '192.168.0.253', ips: '192.168.0.10-192.168.0.20', subnet: '192.168.0.0/24' } },
  ipvlan: { hostIp: '172.31.5.10', serviceCidr: '10.96.0.0/16', hostStackCidrs: ['169.254.20.10/32'] },
};

function sysfs(files: Record<string, string>): SysfsReader & { reads: string[] } {
  const reads: string[] = [];
  const read = (path: string): Promise<string> => {
    reads.push(path);
    const v = files[path];
    return v === undefined ? Promise.reject(new Error(`ENOENT: no such file or directory, open '${path}'`)) : Promise.resolve(v);
  };
  return Object.assign(read, { reads });
}

function runner(exitCode: number, stderr = ''): CommandRunner & { calls: Command[] } {
  const calls: Command[] = [];
  return { calls, run: (cmd) => (calls.push(cmd), Promise.resolve({ stdout: '', stderr, exitCode })) };
}

const NODE = { '/sys/class/net/eth1/ifindex': '7\n', '/sys/class/net/eth1/address': '02:AA:bb:cc:dd:ee\n', '/proc/sys/kernel/osrelease': '6.1.0-28-amd64\n' };

describe('local provider, ipvlan mode', () => {
  it('reads the ENI (ifindex, MAC) and gives the node IP, the redirect CIDRs (service first) and the MTU', async () => {
    const p = createLocalProvider(parseDaemonConfig(base), sysfs(NODE));
    expect(p.mode).toBe('ipvlan');
    expect(await p.localFacts()).toEqual({
      eni: { link: 'eth1', ifindex: 7, gateway: '192.168.0.253', table: 1007 },
      ipvlan: { eniMac: '02:aa:bb:cc:dd:ee', hostIp: '172.31.5.10', redirectCidrs: ['10.96.0.0/16', '169.254.20.10/32'], mtu: 1450 },
    });
    expect(p.ipSource().subnet).toBe('192.168.0.0/24');
  });

  it('needs the service CIDR (a ConfigError when the provider is built, before any switch)', () => {
    expect(() => createLocalProvider(parseDaemonConfig({ ...base, ipvlan: { hostIp: '172.31.5.10' } }), sysfs(NODE))).toThrow(
      /^ipvlan\.serviceCidr: required in ipvlan mode/u,
    );
    const many = Array.from({ length: 16 }, (_, i) => `10.${String(100 + i)}.0.0/16`);
    expect(() => createLocalProvider(parseDaemonConfig({ ...base, ipvlan: { ...base.ipvlan, hostStackCidrs: many } }), sysfs(NODE))).toThrow(/ipvlan\.hostStackCidrs: at most 15/u);
  });

  it('a missing ENI or an unreadable MAC is UnavailableError naming the link and the file', async () => {
    await expect(createLocalProvider(parseDaemonConfig(base), sysfs({})).localFacts()).rejects.toThrow(/ENI link eth1 not found \(\/sys\/class\/net\/eth1\/ifindex\)/u);
    const noMac = sysfs({ ...NODE, '/sys/class/net/eth1/address': '00:00\n' });
    await expect(createLocalProvider(parseDaemonConfig(base), noMac).localFacts()).rejects.toThrow(UnavailableError);
  });
});

describe('local provider: the kernel check (verify)', () => {
  const cfg = parseDaemonConfig(base);

  it('a loaded ipvlan module passes without running modprobe', async () => {
    const r = runner(1);
    await expect(createLocalProvider(cfg, sysfs({ ...NODE, '/sys/module/ipvlan/initstate': 'live\n' }), r).verify()).resolves.toBeUndefined();
    expect(r.calls).toEqual([]);
  });

  it('a module not loaded yet is loaded with modprobe ipvlan (argv only)', async () => {
    const r = runner(0);
    await expect(createLocalProvider(cfg, sysfs(NODE), r).verify()).resolves.toBeUndefined();
    expect(r.calls).toEqual([{ file: 'modprobe', args: ['ipvlan'] }]);
  });

  it('no driver: ConfigError at `mode` naming the kernel release, the module and modprobe\'s answer', async () => {
    const r = runner(1, 'modprobe: FATAL: Module ipvlan not found in directory /lib/modules/6.1.0-28-amd64\n');
    const err = await createLocalProvider(cfg, sysfs(NODE), r).verify().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe('mode');
    expect((err as Error).message).toBe(
      'mode: ipvlan cannot run on this node: kernel 6.1.0-28-amd64 has no ipvlan driver: the module is not loaded (/sys/module/ipvlan is absent) and ' +
        '`modprobe ipvlan` failed (modprobe: FATAL: Module ipvlan not found in directory /lib/modules/6.1.0-28-amd64); use veth-policy-routing (ENIMultiIP with eniip_virtual_type veth) here',
    );
  });

  it('a kernel older than 4.19 is refused (Terway\'s minimum) even with the module', async () => {
    const old = sysfs({ ...NODE, '/proc/sys/kernel/osrelease': '4.14.0-1\n', '/sys/module/ipvlan/initstate': 'live\n' });
    expect(await ipvlanKernelProblem(old, runner(0))).toBe('kernel 4.14.0-1 is older than 4.19');
    expect(await ipvlanKernelProblem(sysfs({ ...NODE, '/proc/sys/kernel/osrelease': '4.19.0\n', '/sys/module/ipvlan/initstate': 'live\n' }), undefined)).toBeUndefined();
  });

  it('without a runner a module that is not loaded is refused; other modes check nothing', async () => {
    expect(await ipvlanKernelProblem(sysfs(NODE), undefined)).toMatch(/the ipvlan module is not loaded/u);
    const vethCfg = parseDaemonConfig({ ...base, mode: 'veth-policy-routing' });
    const r = runner(1);
    await expect(createLocalProvider(vethCfg, sysfs({}), r).verify()).resolves.toBeUndefined();
    expect(r.calls).toEqual([]);
  });
});
