/**
 * Pure: what the node should run, from the local daemon config, the `eni-config` ConfigMap, the node's
 * `terway-config` override ConfigMap and the Node itself (its podCIDR for VPC mode). Either a complete config,
 * the ConfigError that rejects the cluster config as a whole, or a refusal: the config is fine but this Node
 * cannot run it yet (VPC mode and no `spec.podCIDR`: in a cluster the podCIDR comes from the Node only, never from
 * the daemon config, so two nodes never share a pool).
 */
import { checkNoOverlap, type DaemonConfig, type ExclusiveEniConfig, type IpvlanConfig } from '../../config/daemon-config.js';
import { isIpv4Cidr } from '../../config/fields.js';
import { poolFromEniConf, poolWithNodeMaxPods } from '../../config/pool-config.js';
import { BUILTIN_STATEFUL_KINDS, type EniConf } from '../../config/eni-conf.js';
import type { CloudConfig } from '../../config/cloud-config.js';
import { NODE_CONFIG_LABEL, parseClusterConfig, type ClusterConfig } from '../../config/eni-config.js';
import { hubModeFor } from '../../config/mode-mapping.js';
import { setFromCidr } from '../../ipam/range.js';
import { ConfigError, errorMessage } from '../../lib/errors.js';
import { networkCidr } from '../../lib/net.js';
import type { Cidr } from '../../lib/brand.js';
import type { ConfigMapInfo, NodeInfo } from '../../k8s/types.js';
import type { ChainInput } from '../../templates/chain-plan.js';

export interface EffectiveConfig {
  /** The daemon config with the cluster's mode, MTU and (VPC) podCIDR applied. */
  readonly daemon: DaemonConfig;
  /** Absent when the cluster has no `eni-config` (the local config runs as is). */
  readonly cluster?: ClusterConfig;
  /** Where it came from, for messages ("kube-system/eni-config + kube-system/big-nodes"). */
  readonly source: string;
  readonly statefulKinds: readonly string[];
  readonly enablePatchPodIps: boolean;
  /** The plugins rendered after the hub's entry, and the terway entry's capabilities (see `chainOf`). */
  readonly chain: ChainInput;
}

/** Why this Node cannot serve the cluster config (yet): the daemon stays not ready until the Node changes. */
export interface NodeRefusal {
  /** The Warning node event's reason. */
  readonly reason: 'NoPodCIDR';
  readonly message: string;
}

export type EffectiveResult =
  | { readonly ok: true; readonly config: EffectiveConfig }
  | { readonly ok: false; readonly error: ConfigError; readonly source: string }
  | { readonly ok: false; readonly refusal: NodeRefusal; readonly source: string };

/** Thrown inside effectiveConfig for a refusal (turned into the result's `refusal`). */
class RefusalSignal extends Error {
  constructor(readonly refusal: NodeRefusal) {
    super(refusal.message);
  }
}

export interface EffectiveInputs {
  readonly local: DaemonConfig;
  readonly node: NodeInfo | undefined;
  readonly configMap: (namespace: string, name: string) => ConfigMapInfo | undefined;
}

export function effectiveConfig(inp: EffectiveInputs): EffectiveResult {
  const ns = inp.local.kubeNamespace;
  const baseId = `${ns}/${inp.local.eniConfigName}`;
  const overrideName = inp.node?.labels[NODE_CONFIG_LABEL];
  const source = overrideName !== undefined && overrideName !== '' ? `${baseId} + ${ns}/${overrideName}` : baseId;
  try {
    const base = inp.configMap(ns, inp.local.eniConfigName);
    if (base === undefined) {
      if (overrideName !== undefined && overrideName !== '') throw new ConfigError(`node label ${NODE_CONFIG_LABEL}`, `names ${ns}/${overrideName} but ${baseId} does not exist`);
      const own = inp.local.mode === 'vpc' ? { ...inp.local, vpc: { podCIDR: nodePodCidr(inp.node, inp.local.nodeName) } } : inp.local;
      const local = { ...own, pool: poolWithNodeMaxPods(inp.local.pool, inp.node?.maxPods) };
      return { ok: true, config: { daemon: local, source: 'local config', statefulKinds: [...BUILTIN_STATEFUL_KINDS], enablePatchPodIps: true, chain: chainOf(inp.local, undefined) } };
    }
    let override: ConfigMapInfo | undefined;
    if (overrideName !== undefined && overrideName !== '') {
      override = inp.configMap(ns, overrideName);
      if (override === undefined) throw new ConfigError(`node label ${NODE_CONFIG_LABEL}`, `ConfigMap ${ns}/${overrideName} not found`);
    }
    const cluster = parseClusterConfig({ id: baseId, data: base.data }, override === undefined ? undefined : { id: `${ns}/${override.name}`, data: override.data });
    const mode = hubModeFor(cluster.daemonMode, cluster.cni);
    const daemon = applyMode(inp.local, mode, cluster, inp.node);
    // the pool's watermarks are the cluster's (eni_conf), as in Terway; the node's max pods sizes auto warm ENIs;
    // a cloud provider's eni_conf is the cluster's too
    const pooled = { ...daemon, pool: poolWithNodeMaxPods(poolFromEniConf(daemon.pool, cluster.eniConf), inp.node?.maxPods), cloud: cloudWithEniConf(daemon.cloud, cluster.eniConf) };
    return { ok: true, config: { daemon: pooled, cluster, source, statefulKinds: cluster.eniConf.statefulKinds, enablePatchPodIps: cluster.eniConf.enablePatchPodIps, chain: chainOf(inp.local, cluster) } };
  } catch (e) {
    if (e instanceof RefusalSignal) return { ok: false, refusal: e.refusal, source };
    const error = e instanceof ConfigError ? e : new ConfigError(source, errorMessage(e), { cause: e });
    return { ok: false, error, source };
  }
}

/**
 * eni-config's `10-terway.conflist`, when present, defines the chain (its plugins besides the terway entry, and
 * that entry's capabilities); otherwise the daemon config's `chain` applies (with `10-terway.conf`'s capabilities).
 */
export function chainOf(local: DaemonConfig, cluster: ClusterConfig | undefined): ChainInput {
  const cni = cluster?.cni;
  const capabilities = cni === undefined || cni.source === 'default' ? undefined : cni.capabilities;
  return { items: cni?.chain ?? local.chain, ...(capabilities !== undefined ? { capabilities } : {}) };
}

/** A cloud provider takes the cluster's eni_conf (vSwitches, security groups, credentials, rate limits) over the inline one. */
function cloudWithEniConf(cloud: CloudConfig, eniConf: EniConf): CloudConfig {
  return cloud.aliyun === undefined ? cloud : { ...cloud, aliyun: { ...cloud.aliyun, eniConf, eniConfWarnings: [] } };
}

/** Whether the node's ENIs come from a cloud (not the daemon config's `local` section). */
const cloudEnis = (local: DaemonConfig): boolean => local.cloud.provider !== 'local';

function applyMode(local: DaemonConfig, mode: DaemonConfig['mode'], cluster: ClusterConfig, node: NodeInfo | undefined): DaemonConfig {
  const mtu = cluster.cni.mtu;
  const withMtu = { ...local, mode, ...(mtu !== undefined ? { mtu } : {}) };
  if (mode === 'veth-policy-routing') {
    if (local.local?.eni === undefined && !cloudEnis(local)) throw new ConfigError('daemon_mode', 'ENIMultiIP (veth) needs local.eni (the ENI) in the daemon config of this node, or cloud.provider: aliyun');
    return withMtu;
  }
  if (mode === 'ipvlan') {
    if (cloudEnis(local)) return withMtu; // the cloud provider reads the node's IP from the metadata service, the service CIDR from eni_conf
    return { ...withMtu, ipvlan: ipvlanOf(local, cluster) };
  }
  if (mode === 'eni') return cloudEnis(local) ? withMtu : { ...withMtu, eni: exclusiveOf(local, cluster) };
  return { ...withMtu, vpc: { podCIDR: nodePodCidr(node, local.nodeName) } };
}

/**
 * VPC's pod CIDR in a cluster: the Node's `spec.podCIDR` (assigned by the controller manager or the admin), never the
 * daemon config's `vpc.podCIDR` (one config for every node would give them all the same pool). None → a refusal.
 */
function nodePodCidr(node: NodeInfo | undefined, nodeName: string | undefined): Cidr {
  const raw = node?.podCIDR;
  if (raw === undefined || raw === '') {
    const who = node?.name ?? nodeName;
    const theNode = who === undefined ? 'the Node' : `Node ${who}`;
    throw new RefusalSignal({
      reason: 'NoPodCIDR',
      message: node === undefined
        ? `VPC mode takes the pod CIDR from the Node, and ${theNode} is not known yet (not listed by the API server); not serving until it is`
        : `VPC mode takes the pod CIDR from the Node, and ${theNode} has no spec.podCIDR (kube-controller-manager --allocate-node-cidrs, or set it); not serving until it has one`,
    });
  }
  try {
    setFromCidr(raw, 'Node.spec.podCIDR');
  } catch (e) {
    throw new ConfigError('Node.spec.podCIDR', errorMessage(e), { cause: e });
  }
  return networkCidr(raw);
}

/**
 * ipvlan's settings: the ENI and the node IP from the daemon config of the node; the service CIDR from eni_conf
 * `service_cidr` (its IPv4 one; Terway redirects only IPv4), else the daemon config's `ipvlan.serviceCidr`; the
 * other redirected CIDRs from the CNI `host_stack_cidrs` (IPv4) when set, else the daemon config's.
 */
function ipvlanOf(local: DaemonConfig, cluster: ClusterConfig): IpvlanConfig {
  const eni = local.local?.eni;
  if (eni === undefined) throw new ConfigError('daemon_mode', 'ENIMultiIP (IPVlan) needs local.eni (the ENI) in the daemon config of this node');
  const own = local.ipvlan;
  if (own === undefined) throw new ConfigError('daemon_mode', "ENIMultiIP (IPVlan) needs ipvlan.hostIp (the node's IP) in the daemon config of this node");
  const fromCluster = cluster.eniConf.serviceCidrs.find(isIpv4Cidr);
  const field = fromCluster !== undefined ? 'eni_conf.service_cidr' : 'ipvlan.serviceCidr';
  const raw = fromCluster ?? own.serviceCidr;
  if (raw === undefined) throw new ConfigError('eni_conf.service_cidr', 'required with ENIMultiIP (IPVlan): pods reach services through the node (or set ipvlan.serviceCidr in the daemon config)');
  const serviceCidr = networkCidr(raw);
  checkNoOverlap(serviceCidr, eni.subnet, field);
  const stack = cluster.cni.hostStackCidrs.filter(isIpv4Cidr).map((c) => networkCidr(c));
  return { hostIp: own.hostIp, serviceCidr, hostStackCidrs: stack.length > 0 ? stack : own.hostStackCidrs };
}

/**
 * Exclusive ENI's settings: the node IP from the daemon config of the node (`eni.hostIp`); the service CIDR from
 * eni_conf `service_cidr` (its IPv4 one), else the daemon config's `eni.serviceCidr`; the host-stack CIDRs from the
 * CNI `host_stack_cidrs` (IPv4) when set, else the daemon config's. The ENIs come from the node's provider.
 */
function exclusiveOf(local: DaemonConfig, cluster: ClusterConfig): ExclusiveEniConfig {
  const own = local.eni;
  if (own === undefined) throw new ConfigError('daemon_mode', "ENI (exclusive ENI) needs eni.hostIp (the node's IP) in the daemon config of this node");
  const fromCluster = cluster.eniConf.serviceCidrs.find(isIpv4Cidr);
  const field = fromCluster !== undefined ? 'eni_conf.service_cidr' : 'eni.serviceCidr';
  const raw = fromCluster ?? own.serviceCidr;
  if (raw === undefined) throw new ConfigError('eni_conf.service_cidr', 'required with ENI (exclusive ENI): pods reach services through their side-car veth (or set eni.serviceCidr in the daemon config)');
  const serviceCidr = networkCidr(raw);
  for (const e of local.local?.enis ?? []) checkNoOverlap(serviceCidr, e.subnet, field);
  const stack = cluster.cni.hostStackCidrs.filter(isIpv4Cidr).map((c) => networkCidr(c));
  return { hostIp: own.hostIp, serviceCidr, hostStackCidrs: stack.length > 0 ? stack : own.hostStackCidrs };
}

/** Stable identity of what a config change would change (mode, pool, MTU, pod-facing settings, policy inputs). */
export function fingerprint(c: EffectiveConfig): string {
  const d = c.daemon;
  const eniOf = d.mode === 'veth-policy-routing' || d.mode === 'ipvlan' ? d.local?.eni : d.mode === 'eni' ? [d.local?.enis ?? [], d.eni] : null;
  const policy = [c.cluster?.disableNetworkPolicy ?? false, c.cluster?.eniConf.serviceCidrs ?? [], c.cluster?.cni.hostStackCidrs ?? []];
  return JSON.stringify([d.mode, d.mtu, d.vpc?.podCIDR ?? '', eniOf, d.mode === 'ipvlan' ? d.ipvlan : null, d.pool, d.cloud, c.statefulKinds, c.enablePatchPodIps, c.chain, policy]);
}
