/**
 * The embedded default provider: no cloud API. VPC mode hands out `vpc.podCIDR`; veth-policy-routing uses a
 * configured host link as "the ENI" and hands out `local.eni.ips` inside `local.eni.subnet`.
 */
import { readFile } from 'node:fs/promises';
import type { DaemonConfig } from '../../config/daemon-config.js';
import { ConfigError, UnavailableError, errorMessage } from '../../lib/errors.js';
import { ENI_TABLE_BASE } from '../../modes/types.js';
import { setFromCidr, setFromSpecs } from '../../ipam/range.js';
import type { CloudProvider, IpSource, LocalFacts } from '../types.js';

/** Reads a small sysfs file (injected so tests need no real link). */
export type SysfsReader = (path: string) => Promise<string>;

export const readSysfs: SysfsReader = (path) => readFile(path, 'utf8');

export function createLocalProvider(cfg: DaemonConfig, read: SysfsReader = readSysfs): CloudProvider {
  const source = ipSourceFor(cfg);
  const eni = cfg.local?.eni;
  return {
    name: 'local',
    mode: cfg.mode,
    ipSource: () => source,
    localFacts: async (): Promise<LocalFacts> => {
      if (cfg.mode !== 'veth-policy-routing') return {};
      if (eni === undefined) throw new ConfigError('local.eni', 'required in veth-policy-routing mode');
      const path = `/sys/class/net/${eni.link}/ifindex`;
      let text: string;
      try {
        text = await read(path);
      } catch (e) {
        throw new UnavailableError(`ENI link ${eni.link} not found (${path}): ${errorMessage(e)}`, { cause: e });
      }
      const ifindex = Number(text.trim());
      if (!Number.isInteger(ifindex) || ifindex <= 0) throw new UnavailableError(`bad ifindex in ${path}: ${JSON.stringify(text)}`);
      return { eni: { link: eni.link, ifindex, gateway: eni.gateway, table: ENI_TABLE_BASE + ifindex } };
    },
  };
}

function ipSourceFor(cfg: DaemonConfig): IpSource {
  if (cfg.mode === 'vpc') {
    if (cfg.vpc === undefined) throw new ConfigError('vpc.podCIDR', 'required in vpc mode');
    return { subnet: cfg.vpc.podCIDR, addresses: setFromCidr(cfg.vpc.podCIDR, 'vpc.podCIDR') };
  }
  const eni = cfg.local?.eni;
  if (eni === undefined) throw new ConfigError('local.eni', 'required in veth-policy-routing mode');
  return { subnet: eni.subnet, addresses: setFromSpecs(eni.ips, 'local.eni.ips', eni.subnet) };
}
