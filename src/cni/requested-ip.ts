/**
 * The address a runtime asks for: CNI_ARGS `IP=` (podman `run --ip`, and the IP `podman network reload` re-ADDs) or
 * the libcni `ips` capability (`runtimeConfig.ips: ["10.1.2.3/24"]`). The daemon gives it or refuses; it is never
 * silently replaced by another address. Pure.
 */
import { isIpv4, type IpAddr } from '../lib/brand.js';
import { quote } from '../lib/text.js';
import type { AttachmentEnv } from './args.js';
import type { NetConf } from './config.js';
import { CniError } from './errors.js';
import { CniCode } from './spec.js';

function invalid(problem: string): CniError {
  return new CniError(CniCode.INVALID_CONFIG, 'invalid network config', `runtimeConfig.ips: ${problem}`);
}

/** IPv4 entries of runtimeConfig.ips (IPv6 ones are not the hub's to give); more than one IPv4 is refused. */
function fromCapability(runtimeConfig: NetConf['runtimeConfig']): IpAddr | undefined {
  const ips = runtimeConfig?.ips;
  if (ips === undefined) return undefined;
  if (!Array.isArray(ips)) throw invalid('must be a list of addresses');
  const v4: IpAddr[] = [];
  for (const entry of ips as unknown[]) {
    if (typeof entry !== 'string') throw invalid(`entries must be strings, got ${quote(entry)}`);
    const ip = entry.split('/')[0] ?? '';
    if (isIpv4(ip)) v4.push(ip);
    else if (!ip.includes(':')) throw invalid(`not an address: ${quote(entry)}`);
  }
  if (v4.length > 1) throw invalid(`the hub gives one IPv4 address per interface, got ${quote(v4)}`);
  return v4[0];
}

export function requestedIp(env: AttachmentEnv, config: NetConf): IpAddr | undefined {
  const fromArgs = env.args.ip;
  const fromCap = fromCapability(config.runtimeConfig);
  if (fromArgs !== undefined && fromCap !== undefined && fromArgs !== fromCap) {
    throw new CniError(CniCode.INVALID_CONFIG, 'invalid network config', `CNI_ARGS IP=${fromArgs} and runtimeConfig.ips ${fromCap} ask for different addresses`);
  }
  return fromArgs ?? fromCap;
}
