/**
 * The policy decision's input from one effective config (pure): the node's mode, the `policy` section, Terway's
 * `disable_network_policy`, the service CIDRs (`eni_conf.service_cidr`) and `host_stack_cidrs` of the cluster
 * config, and the node facts found at start.
 */
import { join } from 'node:path';
import type { DaemonConfig } from '../../config/daemon-config.js';
import type { ClusterConfig } from '../../config/eni-config.js';
import type { PolicyInput } from '../../policy/resolve.js';
import type { KubeAccess, PolicyNodeFacts } from '../../policy/types.js';

export interface PolicyEnvironment {
  readonly nodeName: string;
  readonly kube: KubeAccess;
  readonly node: PolicyNodeFacts;
}

export function policyInputOf(cfg: DaemonConfig, cluster: ClusterConfig | undefined, env: PolicyEnvironment): PolicyInput {
  return {
    mode: cfg.mode,
    policy: cfg.policy,
    disableNetworkPolicy: cluster?.disableNetworkPolicy ?? false,
    nodeName: env.nodeName,
    vethPrefix: cfg.vethPrefix,
    networkName: cfg.networkName,
    serviceCidrs: cluster?.eniConf.serviceCidrs ?? [],
    hostStackCidrs: cluster?.cni.hostStackCidrs ?? [],
    runDir: join(cfg.stateDir, 'policy'),
    kube: env.kube,
    node: env.node,
  };
}
