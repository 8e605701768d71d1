/**
 * The node daemon, composed: config → sysctls → lease store → [Kubernetes: informers, effective cluster config]
 * → provider → warm pool → service → [Kubernetes: live bandwidth, scheduled pods → pool] → pending releases
 * drained → RPC server bound → ready → conflist installed → node components; /metrics and /healthz alongside. `stop()` undoes it in reverse.
 *
 * With Kubernetes the node's mode follows the `eni-config` ConfigMap without a restart: a new effective config
 * switches the service to a new provider (new pods get the new dataplane; leases keep the mode they were made in)
 * and re-renders the conflist.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CloudProvider } from '../cloud/types.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import { ConfigError, errorMessage } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { pendingDirFor } from '../lib/pending-release.js';
import type { KubeApi } from '../k8s/types.js';
import { renderConflist, type ConflistContext } from '../templates/render.js';
import { highestVersion, planConflist, type ChainInput } from '../templates/chain-plan.js';
import type { PluginVersionSource } from './plugin-versions.js';
import { chainOf } from './k8s/effective-config.js';
import { HubHttpServer, parseListen } from './http.js';
import { removeFile, writeFileAtomic } from './install.js';
import type { ApplyOutcome } from './k8s/config-watcher.js';
import type { EffectiveConfig } from './k8s/effective-config.js';
import { createLiveBandwidth } from './k8s/live-bandwidth.js';
import { KubeNodeAgent } from './k8s/node-agent.js';
import type { PodBandwidthSync } from './k8s/pod-bandwidth.js';
import type { BandwidthParser } from './k8s/pod-facts.js';
import type { RetryPolicy } from './k8s/reporter.js';
import { HubRpcServer } from './rpc-server.js';
import { EMPTY_MODEL_SOURCE, LivePolicyModel, type PolicyModelSource } from './policy/live-model.js';
import { registerPolicyModelMetrics } from './policy/model-metrics.js';
import { HubService } from './service.js';
import type { LeaseStore } from '../store/store.js';
import { dataplaneFor } from '../modes/registry.js';
import type { Executor, ExecutorFactory } from '../netlink/executor.js';
import { resolvePolicy, type PolicyDecision } from '../policy/resolve.js';
import { Supervisor, createPolicyBackendMetrics } from '../policy/supervisor.js';
import type { ClusterConfig } from '../config/eni-config.js';
import { PolicyController } from './policy/controller.js';
import { BuiltinEnforcer } from './policy/enforcer.js';
import { registerBuiltinMetrics, type BuiltinMetrics } from './policy/builtin-metrics.js';
import { policyInputOf, type PolicyEnvironment } from './policy/input.js';
import type { PolicyAdapters } from './policy/adapters.js';
import { Registry } from 'prom-client';
import { METRIC_PREFIX } from './metrics.js';
import { registerOpsMetrics, type OpsMetrics } from './ops-metrics.js';
import type { CloudCall } from '../cloud/aliyun/call-observer.js';
import { registerTerwayMetrics, type TerwayMetrics } from './terway-metrics.js';
import { PoolKeeper, type PoolSyncFindings } from './pool-keeper.js';
import { WaitRegistry } from './waits.js';
import { whyReply } from './why.js';
import { operatorSources, type OperatorViews } from './operator-sources.js';
import type { HostView } from '../gc/types.js';
import { EniHostSetup } from './eni-host-setup.js';
import { NodeSetupKeeper, procSysctlReader, type SysctlReader } from './node-setup.js';
import type { NodeRefusal } from './k8s/effective-config.js';
import { ScheduledPods } from './k8s/scheduled-pods.js';
import type { RecoveryReport } from '../pool/recover.js';
import type { PolicyModelReply, PolicyVerifyReply, StatusReply, WhyReply, WhyRequest } from '../rpc/protocol.js';
import type { LinkByMac } from '../pool/eni-source.js';

export const PENDING_DRAIN_INTERVAL_MS = 30_000;

/** Something that runs alongside the daemon (GC, device plugin, …): started once serving, stopped first. */
export interface NodeComponent {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What a component may use; handed to `DaemonDeps.components` once the service exists. */
export interface DaemonContext {
  readonly config: DaemonConfig;
  readonly service: HubService;
  readonly store: LeaseStore;
  readonly log: Logger;
  readonly kube?: KubeApi;
  readonly nodeName?: string;
  /** The Kubernetes glue (informers, reporter) when Kubernetes is configured. */
  readonly agent?: KubeNodeAgent;
  /** eni mode: the secondary ENIs the instance type allows (the `aliyun/eni` device plugin's capacity). */
  readonly exclusiveEniCapacity?: () => number | undefined;
  /** The daemon's metrics of background work (GC passes feed it). */
  readonly ops?: OpsMetrics;
}

/**
 * The daemon's collaborators. The real adapters (instance lock, lease store, provider, executor) are built in
 * src/main (src/main/adapters.ts) and injected; tests inject fakes the same way.
 */
export interface DaemonDeps {
  readonly log?: Logger;
  /** Takes the state dir's single-daemon lock or throws naming its holder (src/store/instance-lock.ts). */
  readonly lockStateDir: (stateDir: string) => { release(): void };
  /** Opens the lease store in the state dir. */
  readonly openStore: (stateDir: string) => LeaseStore;
  /**
   * Builds the provider of an effective config (src/main: the local or the Aliyun provider; a cloud's asks its
   * metadata service first). Throws ConfigError when it cannot run.
   */
  readonly providerFor: (cfg: DaemonConfig) => CloudProvider | Promise<CloudProvider>;
  /** Finds an exclusive ENI's host link by its MAC (eni mode; src/cloud/host-links.ts over sysfs). */
  readonly linkByMac?: LinkByMac;
  /** Builds a dataplane executor (ip/tc) for one of the daemon's components: node setup, live bandwidth. */
  readonly executorFor: ExecutorFactory;
  /** Asks the chain's plugin binaries their CNI versions (src/daemon/plugin-versions.ts over the process runner). */
  readonly pluginVersions: PluginVersionSource;
  readonly pendingDrainIntervalMs?: number;
  /** Reads /proc/sys (node setup writes a sysctl only when its value differs); default: the file itself. */
  readonly readSysctl?: SysctlReader;
  /** How often a failed node setup is retried (default NODE_SETUP_RETRY_MS). */
  readonly nodeSetupRetryMs?: number;
  /** Observes the host's links, routes and rules (the operator's `mapping`; src/main: observeState over the runner). */
  readonly observeHost?: (signal?: AbortSignal) => Promise<HostView>;
  /** Called after the socket is bound and before the conflist is written (tests observe the ordering). */
  readonly onServing?: () => void | Promise<void>;
  /** The Kubernetes API; absent → the daemon runs on its local config alone (podman, demo, tests). */
  readonly kube?: KubeApi;
  /** Overrides `config.nodeName` (which overrides env NODE_NAME). */
  readonly nodeName?: string;
  readonly kubeSyncTimeoutMs?: number;
  readonly kubeRetry?: RetryPolicy;
  /** Parses the pod bandwidth annotations; default `parseBandwidthAnnotations` (src/bandwidth/annotations.ts). */
  readonly parseBandwidth?: BandwidthParser;
  readonly stickTtlMs?: number;
  readonly components?: (ctx: DaemonContext) => readonly NodeComponent[];
  /**
   * What running the NetworkPolicy backend takes (src/daemon/policy/adapters.ts); absent → the daemon runs no
   * policy backend at all (unit tests of other parts).
   */
  readonly policy?: PolicyAdapters;
  /** The wait registry's refresh and repost periods (./waits.ts; tests shorten them). */
  readonly waitTiming?: { readonly refreshMs?: number; readonly repostMs?: number };
}

interface PreparedConflist {
  /** Rendered with the policy backend's chain entries appended at install time. */
  readonly context: ConflistContext;
  readonly shaping: boolean;
}

export class Daemon {
  readonly #cfg: DaemonConfig;
  readonly #deps: DaemonDeps;
  readonly #log: Logger;
  #effective: DaemonConfig;
  #store: LeaseStore | undefined;
  #service: HubService | undefined;
  #agent: KubeNodeAgent | undefined;
  #bandwidth: PodBandwidthSync | undefined;
  #components: readonly NodeComponent[] = [];
  #rpc: HubRpcServer | undefined;
  #http: HubHttpServer | undefined;
  #httpAddress: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #serving = false;
  #conflistPath: string | undefined;
  #conflistText: string | undefined;
  /** The conflist of the effective config, rendered (and its chain checked) before that config was accepted. */
  #prepared: PreparedConflist | undefined;
  /** False while a chained plugin shapes pod bandwidth: annotation-driven shaping stands down. */
  #shaping = true;
  #stopping: Promise<void> | undefined;
  #lock: { release(): void } | undefined;
  #policyEnv: PolicyEnvironment | undefined;
  /** The policy decision of the accepted config, activated once serving (and on every accepted change). */
  #policyDecision: PolicyDecision | undefined;
  #policy: PolicyController | undefined;
  #pools: PoolKeeper | undefined;
  #scheduled: ScheduledPods | undefined;
  #policyModel: LivePolicyModel | undefined;
  #eniSetup: EniHostSetup | undefined;
  /** The builtin NetworkPolicy backend (runs in the daemon; enabled while it is the chosen backend). */
  #enforcer: BuiltinEnforcer | undefined;
  #builtinMetrics: BuiltinMetrics | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  /** What each pod's network waits for (`terway-hub why`, the pods' `AllocIPWaiting` events). */
  #waits: WaitRegistry | undefined;
  #unwatchPods: (() => void) | undefined;
  #nodeSetup: NodeSetupKeeper | undefined;
  /** The Node refuses the cluster config (VPC without a podCIDR) and none was accepted: not serving. */
  #refusal: NodeRefusal | undefined;
  /** The RPC server is bound (status answers), serving or not. */
  #listening = false;
  /** Every metric of the daemon: the service's, Terway's set, the background work's, the policy backend's. */
  readonly #registry = new Registry();
  readonly #terway: TerwayMetrics;
  readonly #ops: OpsMetrics;

  constructor(cfg: DaemonConfig, deps: DaemonDeps) {
    this.#cfg = cfg;
    this.#effective = cfg;
    this.#deps = deps;
    this.#log = deps.log ?? silentLogger;
    this.#terway = registerTerwayMetrics(this.#registry, () => {
      const service = this.#service;
      return service === undefined ? undefined : { poolTotal: () => service.poolSize(), poolIdle: () => service.poolFree(), factories: () => this.#pools?.factories() ?? [] };
    });
    this.#ops = registerOpsMetrics(this.#registry, METRIC_PREFIX, this.#terway, () => this.#agent?.config.lastError);
  }

  /** The daemon's metrics registry (what /metrics serves). */
  get registry(): Registry {
    return this.#registry;
  }

  /** One Aliyun client call (the providers' CloudCallObserver, wired in src/main): `aliyun_*_latency`. */
  observeCloudCall(call: CloudCall): void {
    this.#terway.observeCloudCall(call);
  }

  get service(): HubService | undefined {
    return this.#service;
  }

  /** The warm pools (undefined before start). */
  get pools(): PoolKeeper | undefined {
    return this.#pools;
  }

  get agent(): KubeNodeAgent | undefined {
    return this.#agent;
  }

  /** The config the node runs now (the local config with the cluster's mode/MTU/podCIDR applied). */
  get effectiveConfig(): DaemonConfig {
    return this.#effective;
  }

  /** The per-pod wait registry (undefined before start). */
  get waits(): WaitRegistry | undefined {
    return this.#waits;
  }

  /** The NetworkPolicy backend's controller (undefined without policy adapters). */
  get policy(): PolicyController | undefined {
    return this.#policy;
  }

  /** The live NetworkPolicy model (empty without Kubernetes). */
  get policyModel(): PolicyModelSource {
    return this.#policyModel ?? EMPTY_MODEL_SOURCE;
  }

  get httpAddress(): string | undefined {
    return this.#httpAddress;
  }

  get conflistPath(): string {
    return join(this.#cfg.cniConfDir, this.#cfg.conflistName);
  }

  async start(): Promise<void> {
    const cfg = this.#cfg;
    this.#log.info('daemon starting', { mode: cfg.mode, socket: cfg.socket, stateDir: cfg.stateDir, kubernetes: this.#deps.kube !== undefined });
    this.#lock = this.#deps.lockStateDir(cfg.stateDir); // before anything shared is touched: the store, the socket
    try {
      this.#store = this.#deps.openStore(cfg.stateDir);
      await this.#ensureLogDir(cfg.cniLogFile);
      const nodeName = this.#nodeName();
      const pol = this.#deps.policy;
      if (pol !== undefined) this.#policyEnv = { nodeName: nodeName ?? pol.hostname(), kube: pol.kubeAccess, node: await pol.nodeFacts() };
      if (this.#deps.kube !== undefined) {
        if (nodeName === undefined) throw new ConfigError('nodeName', 'Kubernetes is configured but the node name is unknown (set nodeName or NODE_NAME)');
        this.#agent = new KubeNodeAgent({
          kube: this.#deps.kube,
          nodeName,
          local: cfg,
          apply: (eff) => this.#apply(eff),
          refused: (r) => this.#refused(r),
          log: this.#log.child({ component: 'k8s' }),
          ...(this.#deps.kubeSyncTimeoutMs !== undefined ? { syncTimeoutMs: this.#deps.kubeSyncTimeoutMs } : {}),
          ...(this.#deps.kubeRetry !== undefined ? { retry: this.#deps.kubeRetry } : {}),
          ...(this.#deps.parseBandwidth !== undefined ? { parseBandwidth: this.#deps.parseBandwidth } : {}),
          shaping: () => this.#shaping,
          onConfigRejected: (source) => { this.#ops.configRejected(source); },
        });
        await this.#agent.start(); // applies the first effective config into #effective (no service yet)
        const agent = this.#agent;
        this.#policyModel = new LivePolicyModel({
          pods: agent.clusterPods,
          nodes: agent.nodes,
          policies: agent.networkPolicies,
          namespaces: agent.namespaces,
          warn: (reason, message) => { agent.reporter.nodeWarning(reason, message); },
          log: this.#log.child({ component: 'policy-model' }),
        });
        this.#policyModel.start();
      }
      // no cluster config accepted (no Kubernetes, or eni-config rejected at start): the local config's chain
      if (this.#prepared === undefined) {
        this.#accept(await this.#prepare(cfg, chainOf(cfg, undefined)));
        this.#policyDecision = this.#decidePolicy(cfg, undefined); // a local config whose backend is refused does not start
      }
      const eff = this.#effective;
      const provider = await this.#providerFor(eff);
      await provider.verify(); // ipvlan on a kernel without it: the daemon does not start (with Kubernetes, #apply refused it already)
      await this.#setUpNode(provider, eff.vethPrefix);
      this.#pools = new PoolKeeper(this.#store, this.#log.child({ component: 'pool' }), (r) => { this.#reportRecovery(r); }, this.#deps.linkByMac, (c) => { this.#ops.factoryCall(c); });
      const source = await this.#pools.sourceFor(provider, eff.pool);
      const eniSetup = new EniHostSetup(() => this.#executor('eni-setup'), () => this.#effective.vethPrefix, this.#log.child({ component: 'eni-setup' }));
      this.#eniSetup = eniSetup;
      const enforcer = pol === undefined ? undefined : this.#createEnforcer(pol, this.#store, nodeName ?? pol.hostname());
      this.#enforcer = enforcer;
      const agent = this.#agent;
      const waits = new WaitRegistry({
        ...(agent !== undefined ? { post: (ns: string, name: string, message: string) => { agent.reporter.podEvent(ns, name, 'Normal', 'AllocIPWaiting', message); } } : {}),
        policyNotReady: () => this.#policyNotReady(),
        ...this.#deps.waitTiming,
      });
      this.#waits = waits;
      waits.start();
      // a pod gone from this node waits for nothing any more
      this.#unwatchPods = agent?.pods.on((e) => { if (e.type === 'delete') waits.forget(e.object.namespace, e.object.name); });
      const service = new HubService({
        waits,
        ...(enforcer !== undefined ? { isolate: (lease) => enforcer.isolate(lease) } : {}),
        prepareEni: (p, local, eni, facts) => eniSetup.ensure(p, local, eni, facts),
        store: this.#store,
        provider,
        ...(source !== undefined ? { source } : {}),
        mtu: eff.mtu,
        log: this.#log.child({ component: 'service' }),
        ...(this.#agent !== undefined ? { podFacts: this.#agent.podFacts, observer: this.#agent.reporter } : {}),
        ...(this.#deps.stickTtlMs !== undefined ? { stickTtlMs: this.#deps.stickTtlMs } : {}),
        onReleased: (lease) => {
          this.#bandwidth?.released(lease);
          enforcer?.released(lease);
        },
        onSettled: (lease) => { this.#bandwidth?.settled(lease); },
        metrics: { registry: this.#registry, terway: this.#terway },
      });
      this.#service = service;
      service.setStatusDetail(() => this.#statusDetail());
      if (enforcer !== undefined) this.#builtinMetrics = registerBuiltinMetrics(service.metrics.registry, METRIC_PREFIX);
      if (this.#policyModel !== undefined) registerPolicyModelMetrics(service.metrics.registry, METRIC_PREFIX, this.#policyModel);
      if (this.#agent !== undefined) {
        this.#bandwidth = createLiveBandwidth({
          pods: this.#agent.pods,
          reporter: this.#agent.reporter,
          store: this.#store,
          executor: this.#executor('bandwidth'),
          vethPrefix: eff.vethPrefix,
          log: this.#log.child({ component: 'bandwidth' }),
          attachments: service,
          enabled: () => this.#shaping,
        });
        this.#bandwidth.start(); // reconciles the pods already known, then follows annotation changes
        const store = this.#store;
        this.#scheduled = new ScheduledPods({
          pods: this.#agent.pods,
          demand: this.#pools,
          holdsIp: (ns, name) => store.listByPod(ns, name).length > 0 || store.reservations().some((r) => r.podNamespace === ns && r.podName === name),
          log: this.#log.child({ component: 'pool' }),
        });
        this.#scheduled.start(); // pods bound here awaiting their IP: the current pool brings them before the ADD
      }

      const listen = parseListen(cfg.httpListen);
      if (listen !== undefined) {
        this.#http = new HubHttpServer({
          registry: service.metrics.registry,
          serving: () => this.#listening, // alive (a node refusing to serve is not restarted by its liveness probe)
          notReadyReason: () => this.#notReady(service),
          detail: () => this.#policyLine(),
        });
        this.#httpAddress = await this.#http.listen(listen);
        this.#log.info('http serving', { address: this.#httpAddress });
      }

      await this.#drain();
      // the builtin backend enforces before the first ADD can arrive (a restarted node's runtime may send one at once)
      if (this.#policyDecision?.backend === 'builtin') await this.#enforcer?.enable().catch((e: unknown) => { this.#log.error('builtin NetworkPolicy rules not programmed at start', { err: errorMessage(e) }); });
      this.#rpc = new HubRpcServer(service, this.#log.child({ component: 'rpc' }), { policyModel: () => this.#policyModelReply(nodeName), policyVerify: () => this.#policyVerify(), why: (req) => Promise.resolve(this.#why(req)), ...operatorSources(this.#operatorViews(service)) });
      await this.#rpc.listen(cfg.socket);
      this.#listening = true;
      const refusal = this.#refusal;
      if (refusal === undefined) await this.#goServing();
      else {
        service.setRefusal(`${refusal.reason}: ${refusal.message}`);
        this.#log.error('not serving: the node refuses the cluster config', { reason: refusal.reason, err: refusal.message });
      }

      const every = this.#deps.pendingDrainIntervalMs ?? PENDING_DRAIN_INTERVAL_MS;
      this.#timer = setInterval(() => void this.#drain(), every);
      this.#timer.unref();
      this.#scheduleSync();

      this.#components = this.#deps.components?.(this.#context(service, this.#store, nodeName)) ?? [];
      for (const c of this.#components) {
        await c.start();
        this.#log.info('component started', { component: c.name });
      }
    } catch (e) {
      this.#log.error('daemon start failed', { err: errorMessage(e) });
      await this.stop();
      throw e;
    }
  }

  /**
   * The plugin's log directory (`cniLogFile`'s, /var/log/terway-hub by default), created 0750 when missing: the plugin
   * never creates it (src/lib/log-file.ts falls back to stderr, which the runtime mostly drops). Not fatal.
   */
  async #ensureLogDir(file: string): Promise<void> {
    const dir = dirname(file);
    try {
      await mkdir(dir, { recursive: true, mode: 0o750 });
    } catch (e) {
      this.#log.warn('the CNI log directory could not be created: the plugin logs to stderr', { dir, err: errorMessage(e) });
    }
  }

  /** Ready for ADDs: the conflist goes to the host, the policy backend starts. */
  async #goServing(): Promise<void> {
    const service = this.#service;
    if (service === undefined || this.#serving || !this.#listening || this.#stopping !== undefined) return;
    this.#serving = true;
    service.setRefusal(undefined);
    service.setReady(true);
    await this.#deps.onServing?.();
    const pol = this.#deps.policy;
    if (pol !== undefined) this.#policy = this.#createPolicy(pol, service);
    await this.#installConflist();
    await this.#activatePolicy();
  }

  /** The config watcher's refusal (set, or cleared once the Node can run the cluster config: then serving starts). */
  async #refused(r: NodeRefusal | undefined): Promise<void> {
    this.#refusal = r;
    const service = this.#service;
    if (r !== undefined) {
      service?.setRefusal(`${r.reason}: ${r.message}`);
      return;
    }
    if (service === undefined) return; // still starting: start() goes serving
    this.#log.info('the node runs the cluster config now: serving');
    service.setRefusal(undefined);
    if (this.#serving) service.setReady(true); // it served the local config before the refusal
    else await this.#goServing();
  }

  /** /readyz: why not ready (a refusal, not serving yet, a failed node setup, the policy backend), or undefined. */
  #notReady(service: HubService): string | undefined {
    const r = this.#refusal;
    if (r !== undefined) return `not serving: ${r.reason}: ${r.message}`;
    if (!this.#serving || !service.ready) return 'not serving';
    return this.#nodeSetup?.notReadyReason() ?? this.#policyNotReady();
  }

  /** Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#log.info('daemon stopping');
    for (const c of [...this.#components].reverse()) {
      await c.stop().catch((e: unknown) => { this.#log.warn('component stop failed', { component: c.name, err: errorMessage(e) }); });
    }
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#syncTimer !== undefined) clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    this.#nodeSetup?.stop();
    await this.#nodeSetup?.idle();
    this.#enforcer?.stop(); // its rules stay: policy is enforced until the next start
    await this.#policy?.stop().catch((e: unknown) => { this.#log.warn('policy backend stop failed', { err: errorMessage(e) }); });
    await this.#bandwidth?.stop();
    this.#scheduled?.stop();
    await this.#pools?.stop();
    this.#unwatchPods?.();
    this.#waits?.stop();
    this.#service?.setReady(false, 'stopping');
    this.#serving = false;
    this.#listening = false;
    if (this.#conflistPath !== undefined && !this.#cfg.keepConflistOnExit) {
      await removeFile(this.#conflistPath).catch((e: unknown) => { this.#log.warn('conflist removal failed', { err: errorMessage(e) }); });
    }
    await this.#rpc?.close();
    this.#policyModel?.stop();
    await this.#agent?.stop();
    await this.#http?.close();
    this.#store?.close();
    this.#lock?.release();
    this.#log.info('daemon stopped');
  }

  #nodeName(): string | undefined {
    const n = this.#deps.nodeName ?? this.#cfg.nodeName ?? process.env.NODE_NAME;
    return n === undefined || n === '' ? undefined : n;
  }

  #context(service: HubService, store: LeaseStore, nodeName: string | undefined): DaemonContext {
    return {
      config: this.#cfg,
      service,
      store,
      log: this.#log,
      ...(this.#deps.kube !== undefined ? { kube: this.#deps.kube } : {}),
      ...(nodeName !== undefined ? { nodeName } : {}),
      ...(this.#agent !== undefined ? { agent: this.#agent } : {}),
      exclusiveEniCapacity: () => this.#pools?.exclusiveEniCapacity(),
      ops: this.#ops,
    };
  }

  async #providerFor(cfg: DaemonConfig): Promise<CloudProvider> {
    return this.#deps.providerFor(cfg);
  }

  /**
   * A new effective config. Before the service exists it only becomes the starting config; afterwards the service
   * switches provider (validated first: a provider that cannot be built rejects the config), the node setup runs
   * for the new mode and the conflist is re-rendered. Returns the existing leases the new pool no longer covers.
   */
  async #apply(eff: EffectiveConfig): Promise<ApplyOutcome> {
    const next = eff.daemon;
    const service = this.#service;
    const prepared = await this.#prepare(next, eff.chain); // a bad chain rejects the config before anything changes
    const policy = this.#decidePolicy(next, eff.cluster); // so does a policy backend refused in the new mode
    if (service === undefined) {
      await (await this.#providerFor(next)).verify(); // throws ConfigError when the config cannot run
      this.#effective = next;
      this.#accept(prepared);
      this.#policyDecision = policy;
      return { invalid: [] };
    }
    if ((service.mode === 'eni') !== (next.mode === 'eni')) {
      // Terway: exclusive ENI is fixed per node; its pods own whole ENIs the other modes' pool would take as its own
      throw new ConfigError('daemon_mode', `cannot switch a running node between exclusive ENI and ${service.mode === 'eni' ? next.mode : service.mode}: drain the node and restart the daemon`);
    }
    const provider = await this.#providerFor(next);
    await provider.verify(); // before anything switches: a refused mode keeps the last good config
    await this.#setUpNode(provider, next.vethPrefix);
    const source = await this.#pools?.sourceFor(provider, next.pool);
    service.switchTo({ provider, mtu: next.mtu, ...(source !== undefined ? { source } : {}) });
    this.#scheduled?.resync();
    this.#effective = next;
    this.#accept(prepared);
    this.#policyDecision = policy;
    if (this.#serving) {
      await this.#installConflist();
      await this.#activatePolicy();
    }
    const now = service.runtime.source;
    const invalid = (this.#store?.list() ?? [])
      .filter((l) => l.allocation.mode === next.mode && !now.has(l.allocation.ip))
      .map((l) => `lease ${l.containerId}/${l.ifName} (${l.podNamespace}/${l.podName}) holds ${l.allocation.ip}, outside the ${next.mode} pool`);
    return { invalid };
  }

  /**
   * Renders the conflist of a config and its chain: the hub's entry, then the chain's plugins, offering only the CNI
   * versions every plugin answers to VERSION. Throws ConfigError (missing binary, no common version) naming the entry.
   */
  async #prepare(cfg: DaemonConfig, chain: ChainInput): Promise<PreparedConflist> {
    const highest = highestVersion(cfg.cniVersions) ?? cfg.cniVersion;
    const versions = chain.items.length === 0 ? new Map() : await this.#deps.pluginVersions.versionsOf(chain.items, cfg.cniBinDirs, highest);
    const plan = planConflist(cfg, chain, versions);
    renderConflist(plan.context); // renders (and checks) now: a config whose conflist cannot be written is rejected
    return { context: plan.context, shaping: plan.shaping };
  }

  #accept(prepared: PreparedConflist): void {
    this.#prepared = prepared;
    if (prepared.shaping !== this.#shaping) {
      this.#log.info(prepared.shaping ? 'no chained shaper: the hub shapes pod bandwidth again' : 'a chained plugin shapes pod bandwidth: the hub does not (no bandwidth capability, no annotation shaping)');
    }
    this.#shaping = prepared.shaping;
  }

  /**
   * Installs the prepared conflist with the policy backend's chain entries (cilium-cni, only while its agent is
   * ready) after the hub's and the user's plugins; written atomically, only when its content changes.
   */
  async #installConflist(): Promise<void> {
    const cfg = this.#effective;
    const prepared = this.#prepared;
    if (prepared === undefined) throw new ConfigError('conflist', 'not rendered (no accepted config)');
    const extra = this.#policy?.chainEntries() ?? [];
    const text = renderConflist(extra.length === 0 ? prepared.context : { ...prepared.context, chain: [...prepared.context.chain, ...extra] });
    if (text === this.#conflistText && this.#conflistPath !== undefined) return;
    this.#conflistPath = await writeFileAtomic(cfg.cniConfDir, cfg.conflistName, text);
    this.#conflistText = text;
    this.#log.info('conflist installed', { path: this.#conflistPath, mode: cfg.mode, mtu: cfg.mtu });
  }

  /**
   * Node state every pod of the provider's mode relies on (Dataplane.planNode: sysctls, the ENI table, …), applied
   * part by part (./node-setup.ts: a read-only /proc/sys never skips the routes). Failures are not fatal (ADD ensures
   * what its pods need again) but loud: a Warning `NodeSetupFailed` node event, /readyz and status name the op; it
   * is retried until it succeeds.
   */
  async #setUpNode(provider: CloudProvider, vethPrefix: string): Promise<void> {
    this.#nodeSetup ??= new NodeSetupKeeper({
      executor: () => this.#executor('node-setup'),
      readSysctl: this.#deps.readSysctl ?? procSysctlReader,
      failed: (message) => { this.#agent?.reporter.nodeWarning('NodeSetupFailed', `node setup for ${this.#effective.mode} incomplete (retrying): ${message}`); },
      recovered: () => { this.#agent?.reporter.nodeEvent('Normal', 'NodeSetupSucceeded', 'node setup done after earlier failures'); },
      log: this.#log.child({ component: 'node-setup' }),
      ...(this.#deps.nodeSetupRetryMs !== undefined ? { retryMs: this.#deps.nodeSetupRetryMs } : {}),
    });
    await this.#nodeSetup.run(async () => dataplaneFor(provider.mode).planNode({ vethPrefix }, await provider.localFacts()));
  }

  /** The policy decision of a config (undefined without policy adapters); throws ConfigError when refused. */
  #decidePolicy(cfg: DaemonConfig, cluster: ClusterConfig | undefined): PolicyDecision | undefined {
    const env = this.#policyEnv;
    return env === undefined ? undefined : resolvePolicy(policyInputOf(cfg, cluster, env));
  }

  #createPolicy(pol: PolicyAdapters, service: HubService): PolicyController {
    const log = this.#log.child({ component: 'policy' });
    const supervisor = new Supervisor({ spawner: pol.spawner, prober: pol.prober, log, ...(pol.supervisorOptions !== undefined ? { options: pol.supervisorOptions } : {}) });
    supervisor.on(createPolicyBackendMetrics(service.metrics.registry, METRIC_PREFIX).observe);
    const reporter = this.#agent?.reporter;
    const kube = this.#deps.kube;
    const controller = new PolicyController({
      supervisor,
      cleanResidue: pol.cleanResidue,
      writeFile: pol.writeFile,
      ...(kube !== undefined ? { ensureObject: (o) => kube.ensureClusterObject(o) } : {}),
      startResponder: pol.startResponder,
      event: (type, reason, message) => { reporter?.nodeEvent(type, reason, message); },
      chainChanged: () => (this.#serving ? this.#installConflist() : Promise.resolve()),
      log,
    });
    return controller;
  }

  /** Activates the accepted policy decision; a failure is logged and reported, never fatal to the CNI. */
  async #activatePolicy(): Promise<void> {
    const decision = this.#policyDecision;
    if (this.#policy === undefined || decision === undefined) return;
    try {
      await this.#policy.activate(decision);
      // the builtin backend runs here: on while chosen; otherwise its tables go (swapped out, or left by a run before)
      if (decision.backend === 'builtin') await this.#enforcer?.enable();
      else await this.#enforcer?.disable();
    } catch (e) {
      this.#log.error('policy backend not started', { backend: decision.backend, err: errorMessage(e) });
      this.#agent?.reporter.nodeWarning('PolicyBackendFailed', `${decision.backend} could not be started: ${errorMessage(e)}`);
    }
  }

  #createEnforcer(pol: PolicyAdapters, store: LeaseStore, nodeName: string): BuiltinEnforcer {
    const kube = this.#deps.kube;
    const agent = this.#agent;
    return new BuiltinEnforcer({
      model: this.policyModel,
      leases: () => store.list(),
      podInfo: async (ns, name) => agent?.pods.get(ns, name) ?? (await kube?.getPod(ns, name)),
      applier: pol.builtinApplier,
      nodeName,
      vethPrefix: () => this.#effective.vethPrefix,
      log: this.#log.child({ component: 'policy-builtin' }),
      observe: (r) => { this.#builtinMetrics?.observe(r); },
    });
  }

  /** `terway-hub policy verify`: the builtin backend's tables against the live model's compilation. */
  async #policyVerify(): Promise<PolicyVerifyReply> {
    const backend = this.#policy?.current?.backend ?? 'none';
    if (backend !== 'builtin' || this.#enforcer === undefined) return { backend, scopes: [], drift: [`the NetworkPolicy backend is ${backend}: verify compares the builtin backend's nftables tables only`] };
    const r = await this.#enforcer.verify();
    return { backend, scopes: r.scopes, drift: r.drift };
  }

  /** What Status says beyond the service: the policy backend, and a rejected cluster config. */
  #statusDetail(): Pick<StatusReply, 'policy' | 'configError' | 'nodeSetup' | 'pools'> {
    const nodeSetup = this.#nodeSetup?.notReadyReason();
    const st = this.#policy?.status();
    const pools = this.#pools?.levels() ?? [];
    const configError = this.#agent?.config.lastError;
    const builtin = st?.backend === 'builtin' ? this.#enforcer?.status() : undefined;
    return {
      ...(st !== undefined
        ? {
            policy: {
              backend: st.backend,
              state: builtin?.state ?? st.state,
              why: st.why,
              restarts: st.restarts,
              chainEntryActive: st.chainEntryActive,
              warnings: st.warnings,
              ...(builtin !== undefined ? { rules: builtin.rules, ...(builtin.lastApply !== undefined ? { lastApply: builtin.lastApply } : {}), ...(builtin.lastError !== undefined ? { lastError: builtin.lastError } : {}) } : {}),
            },
          }
        : {}),
      ...(configError !== undefined ? { configError } : {}),
      ...(pools.length > 0 ? { pools } : {}),
      ...(nodeSetup !== undefined ? { nodeSetup } : {}),
    };
  }

  /** `terway-hub why`: the pod's wait from the registry, its lease, the informer (./why.ts). */
  #why(req: WhyRequest): WhyReply {
    const waits = this.#waits;
    const store = this.#store;
    const agent = this.#agent;
    return whyReply(req, {
      wait: (ns, name) => waits?.reason(ns, name),
      leases: (ns, name) => store?.listByPod(ns, name) ?? [],
      ...(agent !== undefined ? { pod: (ns: string, name: string) => agent.pods.get(ns, name) } : {}),
      configError: () => agent?.config.lastError,
      policyNotReady: () => this.#policyNotReady(),
      mode: () => this.#effective.mode,
    }, Date.now());
  }

  #policyModelReply(nodeName: string | undefined): PolicyModelReply {
    const m = this.policyModel;
    return { kubernetes: this.#policyModel !== undefined, nodeName: nodeName ?? '', objects: m.objects(), refused: m.refused() };
  }

  /** What the pool's recovery found at start: logged, and invalid leases as a node event (their pods must go). */
  #reportRecovery(r: RecoveryReport): void {
    if (r.invalidLeases.length > 0) {
      this.#agent?.reporter.nodeWarning('ResourceInvalid', `leased IPs no ENI of this node holds any more (their pods need re-creating): ${r.invalidLeases.join(', ')}`);
    }
    if (r.adopted.length > 0) {
      this.#log.warn('pool: IPs on this node\'s ENIs the pool did not know, adopted as idle', { ips: r.adopted });
      this.#agent?.reporter.nodeEvent('Normal', 'ResourceAdopted', `IPs on this node's ENIs the pool did not know, adopted as idle: ${r.adopted.join(', ')}`);
    }
    if (r.failed.length > 0) this.#agent?.reporter.nodeWarning('PoolRecoveryFailed', `cloud operations cut short by a restart could not be finished: ${r.failed.join('; ')}`);
  }

  /** The next pool sync with the cloud's view, after the effective config's `pool.syncIntervalSeconds`. */
  #scheduleSync(): void {
    if (this.#stopping !== undefined) return;
    this.#syncTimer = setTimeout(() => {
      void this.syncPools().finally(() => { this.#scheduleSync(); });
    }, this.#effective.pool.syncIntervalSeconds * 1000);
    this.#syncTimer.unref();
  }

  /**
   * One pool sync (src/pool/sync.ts, also run on the timer): leased IPs the cloud no longer lists → a `ResourceInvalid`
   * node event and metric; unknown IPs on the pool's ENIs adopted as idle → `ResourceAdopted`; the host setup of
   * ENIs the pool no longer holds forgotten.
   */
  async syncPools(): Promise<PoolSyncFindings | undefined> {
    const pools = this.#pools;
    const service = this.#service;
    if (pools === undefined || service === undefined) return undefined;
    const f = await pools.sync();
    this.#eniSetup?.retain(f.enis);
    const m = service.metrics.poolSyncIps;
    if (f.invalid.length > 0) {
      m.inc({ kind: 'invalid' }, f.invalid.length);
      this.#log.warn('pool sync: leased IPs the cloud no longer lists on their ENI (their pods need re-creating)', { ips: f.invalid });
      this.#agent?.reporter.nodeWarning('ResourceInvalid', `leased IPs the cloud no longer lists on this node's ENIs (their pods need re-creating): ${f.invalid.join(', ')}`);
    }
    if (f.adopted.length > 0) {
      m.inc({ kind: 'adopted' }, f.adopted.length);
      this.#agent?.reporter.nodeEvent('Normal', 'ResourceAdopted', `IPs on this node's ENIs the pool did not know, adopted as idle: ${f.adopted.join(', ')}`);
    }
    if (f.dropped.length > 0) m.inc({ kind: 'dropped' }, f.dropped.length);
    return f;
  }

  /** Why policy keeps the node unready: a backend process not ready, or the builtin backend's last apply failed. */
  #policyNotReady(): string | undefined {
    const builtin = this.#policy?.current?.backend === 'builtin' ? this.#enforcer?.notReadyReason() : undefined;
    return this.#policy?.notReadyReason() ?? builtin;
  }

  /** `policy: felix ready (restarts 0)` for /healthz. */
  #policyLine(): string | undefined {
    const st = this.#policy?.status();
    if (st === undefined) return undefined;
    const builtin = st.backend === 'builtin' ? this.#enforcer?.status() : undefined;
    if (builtin !== undefined) return `policy: builtin ${builtin.state} (${String(builtin.rules)} rules in ${String(builtin.scopes)} scopes${builtin.lastError !== undefined ? `; last error: ${builtin.lastError}` : ''})`;
    return `policy: ${st.backend} ${st.state} (restarts ${String(st.restarts)}${st.chainEntryActive ? ', CNI chain entry active' : ''})`;
  }

  /** What the operator's `pool` and `mapping` calls read (./operator-sources.ts). */
  #operatorViews(service: HubService): OperatorViews {
    return {
      mode: () => service.runtime.provider.mode,
      pools: () => this.#pools?.detail() ?? [],
      leases: () => this.#store?.list() ?? [],
      vethPrefix: () => this.#effective.vethPrefix,
      ...(this.#deps.observeHost !== undefined ? { observeHost: this.#deps.observeHost } : {}),
    };
  }

  /** A dataplane executor (ip/tc) logging as `component`. */
  #executor(component: string): Executor {
    return this.#deps.executorFor(this.#log.child({ component }));
  }

  async #drain(): Promise<void> {
    const service = this.#service;
    if (service === undefined) return;
    try {
      service.purgeExpiredReservations();
      const res = await service.drainPending(pendingDirFor(this.#cfg.socket));
      if (res.released.length > 0 || res.skipped.length > 0) this.#log.info('pending releases drained', { released: res.released.length, skipped: res.skipped.length });
    } catch (e) {
      this.#log.warn('pending release drain failed', { err: errorMessage(e) });
    }
  }
}
