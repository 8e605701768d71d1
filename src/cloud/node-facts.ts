/**
 * The node facts the exclusive-ENI and ipvlan modes carry in every allocation, from settings every provider has: the
 * node's IP, the service CIDR pods reach through the node (required in both modes) and the extra host-stack CIDRs.
 * One place for both providers — local (the config's `eni` / `ipvlan` sections) and aliyun (eni_conf's
 * `service_cidr` first, the sections otherwise). Pure; ConfigError naming the field to set.
 */
import type { Cidr, IpAddr } from '../lib/brand.js';
import { ConfigError } from '../lib/errors.js';
import { MAX_REDIRECTS } from '../modes/ipvlan/layout.js';
import type { ExclusiveNodeFacts, IpvlanNodeFacts } from '../modes/types.js';

export interface NodeFactInput {
  readonly hostIp: IpAddr;
  readonly serviceCidr: Cidr | undefined;
  readonly hostStackCidrs: readonly Cidr[];
  /** The field named when the service CIDR is missing (the provider knows where it is set). */
  readonly serviceCidrField: string;
}

export function exclusiveNodeFacts(s: NodeFactInput): ExclusiveNodeFacts {
  const svc = s.serviceCidr;
  if (svc === undefined) throw new ConfigError(s.serviceCidrField, 'required in eni mode: the service CIDR pods reach through their side-car veth (with Kubernetes: eni_conf service_cidr)');
  return { hostIp: s.hostIp, serviceCidrs: [svc], hostStackCidrs: s.hostStackCidrs.filter((c) => c !== svc) };
}

/** ipvlan's node facts but the ENI's MAC (the provider knows the ENI). */
export function ipvlanNodeFacts(s: NodeFactInput, mtu: number): Omit<IpvlanNodeFacts, 'eniMac'> {
  const svc = s.serviceCidr;
  if (svc === undefined) throw new ConfigError(s.serviceCidrField, 'required in ipvlan mode: the service CIDR pods reach through the node (with Kubernetes: eni_conf service_cidr)');
  const redirectCidrs: Cidr[] = [svc, ...s.hostStackCidrs.filter((c) => c !== svc)];
  if (redirectCidrs.length > MAX_REDIRECTS) {
    throw new ConfigError('ipvlan.hostStackCidrs', `at most ${String(MAX_REDIRECTS - 1)} besides the service CIDR; got ${String(redirectCidrs.length - 1)}`);
  }
  return { hostIp: s.hostIp, redirectCidrs, mtu };
}
