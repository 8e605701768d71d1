/**
 * The embedded default provider: no cloud API. VPC mode hands out `vpc.podCIDR`; the ENI modes
 * (veth-policy-routing, ipvlan) use a configured host link as "the ENI" and hand out `local.eni.ips` inside
 * `local.eni.subnet`. ipvlan also reads the ENI's MAC and takes the node IP and the redirect CIDRs from the
 * `ipvlan` section, and refuses a kernel without the ipvlan driver (`verify`). The exclusive-ENI mode (eni) hands
 * out whole ENIs: the links of `local.enis` (./eni-factory.ts), with the node facts of the `eni` section.
 */
import { readFile } from 'node:fs/promises';
import type { DaemonConfig } from '../../config/daemon-config.js';
import { parseMac } from '../../lib/brand.js';
import { ConfigError, UnavailableError, errorMessage } from '../../lib/errors.js';
import type { CommandRunner } from '../../lib/exec.js';
import { ENI_TABLE_BASE, type EniFacts, type ExclusiveNodeFacts, type IpvlanNodeFacts } from '../../modes/types.js';
import { setFromCidr, setFromSpecs } from '../../ipam/range.js';
import type { CloudProvider, IpSource, LocalFacts } from '../types.js';
import { stableMac } from '../../lib/veth-name.js';
import { exclusiveNodeFacts, ipvlanNodeFacts } from '../node-facts.js';
import { createLocalFactory } from './factory.js';
import { createLocalEniFactory, localExclusiveEniId } from './eni-factory.js';

/** Reads a small sysfs (or procfs) file (injected so tests need no real link). */
export type SysfsReader = (path: string) => Promise<string>;

export const readSysfs: SysfsReader = (path) => readFile(path, 'utf8');

/** Terway's minimum for ipvlan L2 with the tc redirect (`CheckIPVLanAvailable`). */
const MIN_KERNEL: readonly [number, number] = [4, 19];

/**
 * `runner` runs `modprobe ipvlan` when the module is not loaded yet (without one, a module that is not loaded is
 * refused).
 */
export function createLocalProvider(cfg: DaemonConfig, read: SysfsReader = readSysfs, runner?: CommandRunner): CloudProvider {
  const source = ipSourceFor(cfg);
  const eni = cfg.local?.eni;
  const ipvlan = cfg.mode === 'ipvlan' ? ipvlanSettings(cfg) : undefined;
  if (cfg.mode === 'eni') return exclusiveEniProvider(cfg, source);
  const readEni = async (): Promise<EniFacts> => {
    if (eni === undefined) throw new ConfigError('local.eni', `required in ${cfg.mode} mode`);
    const ifindex = Number((await sysfs(read, `/sys/class/net/${eni.link}/ifindex`, `ENI link ${eni.link} not found`)).trim());
    if (!Number.isInteger(ifindex) || ifindex <= 0) throw new UnavailableError(`bad ifindex in /sys/class/net/${eni.link}/ifindex: ${JSON.stringify(ifindex)}`);
    return { link: eni.link, ifindex, gateway: eni.gateway, table: ENI_TABLE_BASE + ifindex };
  };
  return {
    name: 'local',
    mode: cfg.mode,
    ipSource: () => source,
    localFacts: async (): Promise<LocalFacts> => {
      if (cfg.mode === 'vpc') return {};
      const facts = await readEni();
      if (ipvlan === undefined) return { eni: facts };
      const path = `/sys/class/net/${facts.link}/address`;
      const text = (await sysfs(read, path, `ENI link ${facts.link}: no MAC address`)).trim();
      let eniMac;
      try {
        eniMac = parseMac(text, path);
      } catch (e) {
        throw new UnavailableError(`ENI link ${facts.link}: ${errorMessage(e)}`, { cause: e });
      }
      return { eni: facts, ipvlan: { ...ipvlan, eniMac } };
    },
    ...(cfg.mode !== 'vpc' && eni !== undefined
      ? {
          factory: {
            key: `local:${eni.link}:${eni.subnet}:${eni.ips.join(',')}`,
            create: (known: () => ReadonlySet<string>) =>
              createLocalFactory({
                eni,
                known,
                latency: cfg.pool.localLatencyMs,
                // the MAC only names the ENI (ipvlan reads its own in localFacts); a link without one still serves
                mac: () => read(`/sys/class/net/${eni.link}/address`).then((t) => parseMac(t.trim())).catch(() => stableMac(eni.link, 'local-eni')),
              }),
          },
        }
      : {}),
    verify: async (): Promise<void> => {
      if (cfg.mode !== 'ipvlan') return;
      const problem = await ipvlanKernelProblem(read, runner);
      if (problem !== undefined) throw new ConfigError('mode', `ipvlan cannot run on this node: ${problem}; use veth-policy-routing (ENIMultiIP with eniip_virtual_type veth) here`);
    },
  };
}

/**
 * eni (exclusive ENI) mode: every pod gets one of `local.enis` (links of the node known by their MAC) through the
 * exclusive-ENI pool; the node facts every allocation carries come from the `eni` section.
 */
function exclusiveEniProvider(cfg: DaemonConfig, source: IpSource): CloudProvider {
  const enis = cfg.local?.enis;
  if (enis === undefined) throw new ConfigError('local.enis', 'required in eni mode with the local provider (the links that stand in for secondary ENIs)');
  const exclusive = exclusiveSettings(cfg);
  return {
    name: 'local',
    mode: cfg.mode,
    ipSource: () => source,
    localFacts: () => Promise.resolve({ exclusive }),
    factory: {
      key: `local-enis:${enis.map(localExclusiveEniId).join(',')}`,
      create: (known: () => ReadonlySet<string>) => createLocalEniFactory({ enis, known, latency: cfg.pool.localLatencyMs }),
    },
    verify: () => Promise.resolve(),
  };
}

/** The `eni` section as the allocations' node facts; the service CIDR is required (as in ipvlan). */
export function exclusiveSettings(cfg: DaemonConfig): ExclusiveNodeFacts {
  const s = cfg.eni;
  if (s === undefined) throw new ConfigError('eni.hostIp', "required in eni mode (the node's IP, which pods reach through their side-car veth)");
  return exclusiveNodeFacts({ hostIp: s.hostIp, serviceCidr: s.serviceCidr, hostStackCidrs: s.hostStackCidrs, serviceCidrField: 'eni.serviceCidr' });
}

async function sysfs(read: SysfsReader, path: string, what: string): Promise<string> {
  try {
    return await read(path);
  } catch (e) {
    throw new UnavailableError(`${what} (${path}): ${errorMessage(e)}`, { cause: e });
  }
}

/** The ipvlan node facts the config gives (the ENI's MAC is read at localFacts()). */
function ipvlanSettings(cfg: DaemonConfig): Omit<IpvlanNodeFacts, 'eniMac'> {
  const s = cfg.ipvlan;
  if (s === undefined) throw new ConfigError('ipvlan.hostIp', "required in ipvlan mode (the node's IP, put on the host slave ipvl_<ifindex>)");
  return ipvlanNodeFacts({ hostIp: s.hostIp, serviceCidr: s.serviceCidr, hostStackCidrs: s.hostStackCidrs, serviceCidrField: 'ipvlan.serviceCidr' }, cfg.mtu);
}

/**
 * Why this kernel cannot run ipvlan, or undefined: older than 4.19, or no ipvlan driver — not loaded
 * (/sys/module/ipvlan) and `modprobe ipvlan` failed (a built-in driver makes modprobe succeed).
 */
export async function ipvlanKernelProblem(read: SysfsReader, runner: CommandRunner | undefined): Promise<string | undefined> {
  const release = (await read('/proc/sys/kernel/osrelease').catch(() => 'unknown')).trim();
  const m = /^(\d+)\.(\d+)/u.exec(release);
  if (m !== null) {
    const [maj, min] = [Number(m[1]), Number(m[2])];
    if (maj < MIN_KERNEL[0] || (maj === MIN_KERNEL[0] && min < MIN_KERNEL[1])) return `kernel ${release} is older than ${MIN_KERNEL.join('.')}`;
  }
  const state = await read('/sys/module/ipvlan/initstate').then((t) => t.trim(), () => undefined);
  if (state === 'live') return undefined;
  if (runner === undefined) return `kernel ${release}: the ipvlan module is not loaded (/sys/module/ipvlan is absent)`;
  const r = await runner.run({ file: 'modprobe', args: ['ipvlan'] }).catch((e: unknown) => ({ exitCode: -1, stderr: errorMessage(e), stdout: '' }));
  if (r.exitCode === 0) return undefined;
  return `kernel ${release} has no ipvlan driver: the module is not loaded (/sys/module/ipvlan is absent) and \`modprobe ipvlan\` failed (${r.stderr.trim() || `exit ${String(r.exitCode)}`})`;
}

function ipSourceFor(cfg: DaemonConfig): IpSource {
  if (cfg.mode === 'vpc') {
    if (cfg.vpc === undefined) throw new ConfigError('vpc.podCIDR', 'required in vpc mode');
    return { subnet: cfg.vpc.podCIDR, addresses: setFromCidr(cfg.vpc.podCIDR, 'vpc.podCIDR') };
  }
  if (cfg.mode === 'eni') {
    // the pool hands out whole ENIs; this set (the first vSwitch's ENI addresses) only scopes GC's host sweep
    const first = cfg.local?.enis?.[0];
    if (first === undefined) throw new ConfigError('local.enis', 'required in eni mode with the local provider (the links that stand in for secondary ENIs)');
    const ips = (cfg.local?.enis ?? []).filter((e) => e.subnet === first.subnet).map((e) => e.ip);
    return { subnet: first.subnet, addresses: setFromSpecs(ips, 'local.enis', first.subnet) };
  }
  const eni = cfg.local?.eni;
  if (eni === undefined) throw new ConfigError('local.eni', `required in ${cfg.mode} mode`);
  return { subnet: eni.subnet, addresses: setFromSpecs(eni.ips, 'local.eni.ips', eni.subnet) };
}
