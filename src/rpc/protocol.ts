/**
 * The plugin <-> daemon contract: HTTP/1.1 + JSON on a unix socket (mode 0600, root only), as Cilium's and
 * Kube-OVN's CNI plugins talk to their daemons (docs/adr/0006-plugin-daemon-http1.md).
 *
 * One versioned route per call (ROUTES); a request body is one JSON document (GET routes have none and stand for
 * `{}`), a 200 reply body is the reply message. Every message is parsed at both ends (see ./messages.ts). A refused
 * call answers a non-2xx status with an ErrorBody: the daemon maps its typed error to it once, the client maps the
 * `code` back to the same typed error class once. The client sends its deadline in DEADLINE_HEADER (milliseconds
 * left); the daemon aborts the call's work when it passes. Operators may `curl --unix-socket SOCKET
 * http://localhost/v1/status`.
 */
import type { BandwidthSpec } from '../bandwidth/types.js';
import type { HubErrorCode } from '../lib/errors.js';
import type { IpAddr } from '../lib/brand.js';
import type { Allocation } from '../modes/types.js';

import type { MappingReply, MappingRequest, PoolReply, PoolRequest } from './operator-protocol.js';

export const DEFAULT_SOCKET = '/var/run/terway-hub/daemon.sock';
export const CONTENT_TYPE = 'application/json';
/** Milliseconds the caller still waits for the reply (a decimal integer); absent: no deadline. */
export const DEADLINE_HEADER = 'x-terway-deadline-ms';

export interface Route {
  readonly method: 'GET' | 'POST';
  readonly path: string;
}

/** Every call of the contract: what the plugin and the CLI ask, and where. */
export const ROUTES = {
  allocate: { method: 'POST', path: '/v1/allocate' },
  lookup: { method: 'POST', path: '/v1/lookup' },
  release: { method: 'POST', path: '/v1/release' },
  confirm: { method: 'POST', path: '/v1/confirm' },
  status: { method: 'GET', path: '/v1/status' },
  gc: { method: 'POST', path: '/v1/gc' },
  policyModel: { method: 'GET', path: '/v1/policy/model' },
  policyVerify: { method: 'GET', path: '/v1/policy/verify' },
  why: { method: 'POST', path: '/v1/why' },
  pool: { method: 'GET', path: '/v1/pool' },
  mapping: { method: 'GET', path: '/v1/mapping' },
} as const satisfies Record<string, Route>;
export type MethodName = keyof typeof ROUTES;

/** The body of every non-2xx reply: the typed error's code (src/lib/errors.ts) and its message. */
export interface ErrorBody {
  readonly code: HubErrorCode;
  readonly message: string;
}

export interface AttachmentKey {
  readonly containerId: string;
  readonly ifName: string;
}

export interface AllocateRequest extends AttachmentKey {
  readonly netns: string;
  /** Kubernetes identity when the runtime passed K8S_POD_* in CNI_ARGS; empty strings otherwise. */
  readonly podNamespace: string;
  readonly podName: string;
  readonly infraContainerId: string;
  /**
   * The limits of the plugin's CNI `runtimeConfig.bandwidth` (already validated, default bursts filled in). The
   * daemon records them on the lease so live annotation updates leave those directions alone. Absent: none.
   */
  readonly runtimeBandwidth?: BandwidthSpec;
  /** The IP the runtime asked for (CNI_ARGS `IP=` as podman sends it, or runtimeConfig `ips`): given or refused. */
  readonly requestedIp?: IpAddr;
}
export interface AllocateReply {
  readonly allocation: Allocation;
}

export interface LookupRequest extends AttachmentKey {
  /**
   * `delete`: the caller (DEL) is about to tear the attachment down: the daemon holds live updates of it off until
   * the Release or the build deadline. Absent: a read (CHECK).
   */
  readonly intent?: 'delete';
}
export interface LookupReply {
  readonly found: boolean;
  readonly allocation?: Allocation;
  readonly netns?: string;
  /**
   * A newer attachment of the same pod and interface exists (kubelet re-created the sandbox): the host objects
   * named after the pod (the host veth) are that attachment's now, and DEL must leave them alone.
   */
  readonly superseded?: boolean;
}

export interface ReleaseRequest extends AttachmentKey {
  readonly reason: string;
}
export interface ReleaseReply {
  readonly released: boolean;
}

/** The plugin's ADD built the attachment's dataplane: live updates (bandwidth) may touch it from now on. */
export interface ConfirmRequest extends AttachmentKey {
  /** How long the plugin's own phases took (the daemon's ADD phase histogram); absent from older plugins. */
  readonly timings?: AddTimings;
}

/** Milliseconds, measured in the plugin. */
export interface AddTimings {
  /** Programming the dataplane (the netlink/tc plan, rollback included when it failed). */
  readonly netlinkMs?: number;
  /** The plugin's whole ADD so far: from its process start (runtime start-up included) to the Confirm. */
  readonly pluginMs?: number;
}
export interface ConfirmReply {
  /** False when the daemon has no lease for it (released meanwhile). */
  readonly confirmed: boolean;
}

export type StatusRequest = Record<string, never>;
export interface StatusReply {
  readonly ready: boolean;
  readonly mode: string;
  readonly reason: string;
  /** The NetworkPolicy backend (absent from daemons that run none). */
  readonly policy?: PolicyStatusReply;
  /** Why the cluster config was rejected (the last good one runs); absent when the last reconcile was accepted. */
  readonly configError?: string;
  /** The node setup's failed ops (retried; /readyz is not ready meanwhile); absent when the last run succeeded. */
  readonly nodeSetup?: string;
  /** The warm pools' levels (absent from daemons that run none: vpc, or an older daemon). */
  readonly pools?: readonly PoolLevels[];
}

/** One warm pool's numbers now (src/pool/pool.ts `stats()`, src/pool/eni-pool.ts for whole ENIs). */
export interface PoolLevels {
  /** Which pool (its cloud factory's key). */
  readonly key: string;
  /** `ip`: secondary IPs on shared ENIs; `eni`: whole ENIs (exclusive-ENI mode; counts are ENIs). */
  readonly kind: 'ip' | 'eni';
  readonly enis: number;
  readonly ips: number;
  readonly idle: number;
  readonly leased: number;
  /** Allocations waiting for the cloud now. */
  readonly waiting: number;
  /** Cloud calls under way. */
  readonly inFlight: number;
  /** Being given back to the cloud (retired above max_pool_size, or in an Unassign/Delete call). */
  readonly releasing: number;
  /** Unleased IPs scheduled pods will take. */
  readonly heldForScheduled: number;
}

export interface PolicyStatusReply {
  readonly backend: string;
  readonly state: string;
  readonly why: string;
  readonly restarts: number;
  readonly chainEntryActive: boolean;
  readonly warnings: readonly string[];
  /** The builtin backend: rules programmed, last apply (ISO time), its last error. */
  readonly rules?: number;
  readonly lastApply?: string;
  readonly lastError?: string;
}

export interface GcRequest {
  readonly validAttachments: readonly AttachmentKey[];
}
export interface GcReply {
  readonly released: readonly AttachmentKey[];
  readonly errors: readonly string[];
}

/** `terway-hub policy` without -f: the daemon's live NetworkPolicy model (an operator call; the plugin never makes it). */
export type PolicyModelRequest = Record<string, never>;
export interface PolicyModelReply {
  /** False when the daemon follows no Kubernetes API: the model is then empty. */
  readonly kubernetes: boolean;
  readonly nodeName: string;
  /** The accepted objects (Namespace, Pod, Node, NetworkPolicy) in `kubectl get -o json` form. */
  readonly objects: readonly unknown[];
  /** Objects the model refused (object: field: reason); they are left out of `objects`. */
  readonly refused: readonly string[];
}

/** `terway-hub policy verify`: the programmed nftables tables against the live model's compilation. */
export type PolicyVerifyRequest = Record<string, never>;
export interface PolicyVerifyReply {
  /** The backend running on the node; verify compares only the builtin backend's tables. */
  readonly backend: string;
  /** The scopes compared: `host`, or the netns path of a pod-owned scope. */
  readonly scopes: readonly string[];
  /** Every difference, one sentence each naming scope and object; empty when programmed == model. */
  readonly drift: readonly string[];
}

/** `terway-hub why NAMESPACE/POD`: what the pod's network waits for right now. */
export interface WhyRequest {
  readonly namespace: string;
  readonly name: string;
}

/** A classified wait (src/daemon/wait-reasons.ts): `kind` for machines, `text` for people; times are ISO 8601. */
export interface WhyReason {
  readonly kind: string;
  readonly text: string;
  readonly since: string;
  /** When the daemon tries again (end of a pause or an inhibit window). */
  readonly retryAt?: string;
  /** Facts such as the vSwitch, the failover target, the error. */
  readonly detail: Readonly<Record<string, string>>;
}

export interface WhyReply {
  /** `namespace/name`. */
  readonly pod: string;
  /** False: the daemon knows nothing of the pod (not on this node, no allocation, no lease). */
  readonly known: boolean;
  readonly waiting: boolean;
  /** Present while waiting. */
  readonly reason?: WhyReason;
  /** Not waiting: the pod's IP and since when it holds it. */
  readonly ip?: string;
  readonly since?: string;
  /** Node-wide facts that bear on the pod (a refused cluster config, a NetworkPolicy backend not ready). */
  readonly notes: readonly string[];
}

/** What the CLI asks the daemon beyond the plugin's calls. */
export interface HubAdminRpc {
  policyModel(req: PolicyModelRequest): Promise<PolicyModelReply>;
  policyVerify(req: PolicyVerifyRequest): Promise<PolicyVerifyReply>;
  why(req: WhyRequest): Promise<WhyReply>;
  pool(req: PoolRequest): Promise<PoolReply>;
  mapping(req: MappingRequest): Promise<MappingReply>;
}

export interface HubRpc {
  allocate(req: AllocateRequest): Promise<AllocateReply>;
  lookup(req: LookupRequest): Promise<LookupReply>;
  release(req: ReleaseRequest): Promise<ReleaseReply>;
  confirm(req: ConfirmRequest): Promise<ConfirmReply>;
  status(req: StatusRequest): Promise<StatusReply>;
  gc(req: GcRequest): Promise<GcReply>;
}
