/**
 * The NetworkPolicy backend seam. A backend (src/policy/<backend>) is pure: from a PolicyContext it answers what
 * stops it from running here (`check`), which files, process, CNI chain entries and Kubernetes objects it needs, and
 * what it leaves behind when stopped (`residue`). The daemon (later) acts on those answers: it writes the files,
 * ensures the objects, hands the ProcessSpec to the supervisor, splices the chain entries into its conflist and
 * cleans the residue of the backend it replaces. Nothing here does I/O.
 */
import type { CiliumSettings, FelixSettings, PolicyBackendChoice } from '../config/policy-config.js';
import type { ProcessSpec, RenderedFile } from './process-spec.js';
import type { ModeName } from '../modes/types.js';

/**
 * The dataplanes a policy backend is chosen for: every src/modes mode (`ModeName`, checked below) plus `eni`, the
 * exclusive-ENI dataplane still to come, so the backends' refusals for it are written and tested before the mode is.
 */
export const POLICY_MODES = ['vpc', 'veth-policy-routing', 'ipvlan', 'eni'] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];
/** Compile-time check: every dataplane the hub runs has a policy answer (does not compile otherwise). */
export const EVERY_MODE_HAS_A_POLICY_MODE: ModeName extends PolicyMode ? true : never = true;

/** The modes whose pods have a host-side veth named `<vethPrefix><11 hex>` (what Felix and generic-veth need). */
export const VETH_MODES: readonly PolicyMode[] = ['vpc', 'veth-policy-routing'];

export function isVethMode(mode: PolicyMode): boolean {
  return VETH_MODES.includes(mode);
}

/** Names of the backends that exist (each registered in src/policy/registry.ts). */
export type PolicyBackendName = Exclude<PolicyBackendChoice, 'auto'>;

/** Which iptables the node's kube-proxy/kubelet use; Felix must program the same one (src/policy/detect-iptables.ts). */
export type IptablesBackend = 'legacy' | 'nft';

/** How a backend process reaches the Kubernetes API (its environment is complete: nothing is inherited). */
export interface KubeAccess {
  /** A kubeconfig file; without it the in-cluster service below is used. */
  readonly kubeconfig?: string;
  /** In-cluster: KUBERNETES_SERVICE_HOST / _PORT (client-go's in-cluster config reads exactly these). */
  readonly serviceHost?: string;
  readonly servicePort?: string;
  /** The namespace the hub runs in (Cilium's CILIUM_K8S_NAMESPACE). */
  readonly namespace: string;
}

/** Facts about this node that the renderers need, found by I/O adapters at start (detection is not the renderer's). */
export interface PolicyNodeFacts {
  readonly iptablesBackend: IptablesBackend;
  /** Why nftables cannot be used here (no `nft`, a kernel without nf_tables); absent: usable (the builtin backend). */
  readonly nftablesProblem?: string;
}

export interface PolicySettings {
  readonly felix: FelixSettings;
  readonly cilium: CiliumSettings;
}

export interface PolicyContext {
  readonly mode: PolicyMode;
  /** This node's Kubernetes name (Felix's FelixHostname, Cilium's K8S_NODE_NAME: workloads are matched on it). */
  readonly nodeName: string;
  /** The hub's host veth prefix (daemon config `vethPrefix`): Felix's InterfacePrefix. */
  readonly vethPrefix: string;
  /** The hub's CNI network name (daemon config `networkName`): what cilium-cni < 1.14 selects its chainer by. */
  readonly networkName: string;
  /** Service CIDRs (`eni_conf.service_cidr`) and the CNI settings' `host_stack_cidrs`. */
  readonly serviceCidrs: readonly string[];
  readonly hostStackCidrs: readonly string[];
  readonly ipStack: 'ipv4' | 'dual';
  /** A directory the hub owns for backend files (felix.cfg, Cilium's config dir), e.g. `<stateDir>/policy`. */
  readonly runDir: string;
  readonly kube: KubeAccess;
  readonly node: PolicyNodeFacts;
  readonly settings: PolicySettings;
}

/** A Kubernetes object the daemon ensures (create, or update its spec) before the backend starts. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: Readonly<Record<string, unknown>>;
}

/** A loopback HTTP responder the daemon serves itself when no backend process does (`none`): probes stay green. */
export interface HealthResponder {
  readonly host: string;
  readonly port: number;
  /** Paths answered 200 with `body`: the probe paths of every backend, so a DaemonSet written for any of them passes. */
  readonly paths: readonly string[];
  readonly body: string;
}

export type IpFamily = 'ipv4' | 'ipv6';

/**
 * What a stopped backend leaves on the node, as data: the daemon removes it (later) before another backend starts.
 * Every name is a prefix or exact name the backend itself uses; nothing here matches the hub's own objects.
 */
export interface Residue {
  readonly backend: 'felix' | 'cilium' | 'builtin';
  readonly iptables: {
    /** iptables and ip6tables, each in both the legacy and the nft flavour (the other one may hold old rules). */
    readonly families: readonly IpFamily[];
    readonly flavours: readonly IptablesBackend[];
    readonly tables: readonly string[];
    /** Chains whose names start with one of these are flushed and deleted. */
    readonly chainPrefixes: readonly string[];
    /** Rules in built-in chains whose `-m comment` starts with one of these are deleted. */
    readonly ruleCommentPrefixes: readonly string[];
    /** After the cleanup: policy ACCEPT on filter FORWARD (Terway's cleanup_felix does so). */
    readonly forwardPolicyAccept: boolean;
  };
  /** Native nftables tables (family, name) the backend may have created. */
  readonly nftTables: readonly { readonly family: 'ip' | 'ip6' | 'inet'; readonly name: string }[];
  readonly ipsetPrefixes: readonly string[];
  /** Links removed by exact name. */
  readonly links: readonly string[];
  /** tc/tcx programs the backend attached to pod veths with these name prefixes (removed; the veths stay). */
  readonly tcProgramsOnLinkPrefixes: readonly string[];
  /** Files and directories removed recursively; a trailing `*` is a name prefix in that directory. */
  readonly paths: readonly string[];
  /** Conflist plugin `type`s to drop from the hub's conflist. */
  readonly conflistPluginTypes: readonly string[];
  /** Sysctls to restore (Terway's cleanup_felix sets ip_forward=1). */
  readonly sysctls: Readonly<Record<string, string>>;
}

export interface PolicyBackend {
  readonly name: PolicyBackendName;
  /** Why this backend cannot run with this context: human sentences naming the setting; empty = it can. */
  check(ctx: PolicyContext): readonly string[];
  /** Files to write before the process starts (mode and content included). */
  renderFiles(ctx: PolicyContext): readonly RenderedFile[];
  /** The process to supervise; undefined when the backend runs none (`none`). */
  process(ctx: PolicyContext): ProcessSpec | undefined;
  /** Plugin entries for the hub's conflist, appended after the hub's own plugin (only once the agent is healthy). */
  cniChainEntries(ctx: PolicyContext): readonly Readonly<Record<string, unknown>>[];
  /** Kubernetes objects to ensure before the process starts. */
  kubeObjects(ctx: PolicyContext): readonly KubeObject[];
  /** A responder the daemon serves on the probe port when no process does. */
  healthResponder(ctx: PolicyContext): HealthResponder | undefined;
  /** What to clean when this backend is stopped (or before another starts). */
  residue(ctx: PolicyContext): readonly Residue[];
}

/** The PATH given to backend processes (they run iptables, ipset, ip, tc by name). */
export const BACKEND_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment every backend process gets for the Kubernetes API, plus PATH. */
export function baseEnv(kube: KubeAccess): Record<string, string> {
  return {
    PATH: BACKEND_PATH,
    ...(kube.kubeconfig !== undefined ? { KUBECONFIG: kube.kubeconfig } : {}),
    ...(kube.serviceHost !== undefined ? { KUBERNETES_SERVICE_HOST: kube.serviceHost } : {}),
    ...(kube.servicePort !== undefined ? { KUBERNETES_SERVICE_PORT: kube.servicePort } : {}),
  };
}
