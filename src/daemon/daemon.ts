/**
 * The node daemon, composed: config → sysctls → lease store → provider → service → pending releases drained →
 * RPC server bound → ready → conflist installed; /metrics and /healthz alongside. `stop()` undoes it in reverse.
 */
import { join } from 'node:path';
import type { CloudProvider } from '../cloud/types.js';
import { createLocalProvider, type SysfsReader } from '../cloud/local/provider.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import { errorMessage } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { pendingDirFor } from '../lib/pending-release.js';
import { renderConflist } from '../templates/render.js';
import { HubHttpServer, parseListen } from './http.js';
import { removeFile, writeFileAtomic } from './install.js';
import { HubRpcServer } from './rpc-server.js';
import { HubService } from './service.js';
import { LeaseStore } from './store.js';
import { createProcessRunner, type CommandRunner } from '../lib/exec.js';
import { planNodeSetup } from '../modes/registry.js';
import { createExecutor, type SysctlWriter } from '../netlink/executor.js';
import { procSysctlWriter } from './sysctl.js';

export const PENDING_DRAIN_INTERVAL_MS = 30_000;

export interface DaemonDeps {
  readonly log?: Logger;
  readonly sysctl?: SysctlWriter;
  /** Runs ip(8) for the node setup plan (tests inject a fake). */
  readonly runner?: CommandRunner;
  readonly sysfs?: SysfsReader;
  /** Overrides the provider built from the config (tests, later: the Aliyun adapter). */
  readonly provider?: CloudProvider;
  readonly pendingDrainIntervalMs?: number;
  /** Called after the socket is bound and before the conflist is written (tests observe the ordering). */
  readonly onServing?: () => void | Promise<void>;
}

export class Daemon {
  readonly #cfg: DaemonConfig;
  readonly #deps: DaemonDeps;
  readonly #log: Logger;
  #store: LeaseStore | undefined;
  #service: HubService | undefined;
  #rpc: HubRpcServer | undefined;
  #http: HubHttpServer | undefined;
  #httpAddress: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #serving = false;
  #conflistPath: string | undefined;
  #stopping: Promise<void> | undefined;

  constructor(cfg: DaemonConfig, deps: DaemonDeps = {}) {
    this.#cfg = cfg;
    this.#deps = deps;
    this.#log = deps.log ?? silentLogger;
  }

  get service(): HubService | undefined {
    return this.#service;
  }

  get httpAddress(): string | undefined {
    return this.#httpAddress;
  }

  get conflistPath(): string {
    return join(this.#cfg.cniConfDir, this.#cfg.conflistName);
  }

  async start(): Promise<void> {
    const cfg = this.#cfg;
    this.#log.info('daemon starting', { mode: cfg.mode, socket: cfg.socket, stateDir: cfg.stateDir });
    try {
      this.#store = LeaseStore.open(cfg.stateDir);
      const provider = this.#deps.provider ?? createLocalProvider(cfg, ...(this.#deps.sysfs ? [this.#deps.sysfs] : []));
      await this.#setUpNode(provider);
      const service = new HubService({ store: this.#store, provider, mtu: cfg.mtu, log: this.#log.child({ component: 'service' }) });
      this.#service = service;

      const listen = parseListen(cfg.httpListen);
      if (listen !== undefined) {
        this.#http = new HubHttpServer({
          registry: service.metrics.registry,
          serving: () => this.#serving,
          notReadyReason: () => (this.#serving && service.ready ? undefined : 'not serving'),
        });
        this.#httpAddress = await this.#http.listen(listen);
        this.#log.info('http serving', { address: this.#httpAddress });
      }

      await this.#drain();
      this.#rpc = new HubRpcServer(service, this.#log.child({ component: 'rpc' }));
      await this.#rpc.listen(cfg.socket);
      this.#serving = true;
      service.setReady(true);
      await this.#deps.onServing?.();

      const conflist = renderConflist({
        cniVersion: cfg.cniVersion,
        cniVersions: cfg.cniVersions,
        name: cfg.networkName,
        socket: cfg.socket,
        vethPrefix: cfg.vethPrefix,
        mtu: cfg.mtu,
        logFile: cfg.cniLogFile,
      });
      this.#conflistPath = await writeFileAtomic(cfg.cniConfDir, cfg.conflistName, conflist);
      this.#log.info('conflist installed', { path: this.#conflistPath });

      const every = this.#deps.pendingDrainIntervalMs ?? PENDING_DRAIN_INTERVAL_MS;
      this.#timer = setInterval(() => void this.#drain(), every);
      this.#timer.unref();
    } catch (e) {
      this.#log.error('daemon start failed', { err: errorMessage(e) });
      await this.stop();
      throw e;
    }
  }

  /** Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#log.info('daemon stopping');
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#service?.setReady(false, 'stopping');
    this.#serving = false;
    if (this.#conflistPath !== undefined && !this.#cfg.keepConflistOnExit) {
      await removeFile(this.#conflistPath).catch((e: unknown) => { this.#log.warn('conflist removal failed', { err: errorMessage(e) }); });
    }
    await this.#rpc?.close();
    await this.#http?.close();
    this.#store?.close();
    this.#log.info('daemon stopped');
  }

  /** Node state every pod relies on (sysctls, the ENI table). Failures are logged, not fatal: ADD ensures them again. */
  async #setUpNode(provider: CloudProvider): Promise<void> {
    const executor = createExecutor({
      runner: this.#deps.runner ?? createProcessRunner(),
      writeSysctl: this.#deps.sysctl ?? procSysctlWriter,
      log: this.#log.child({ component: 'node-setup' }),
    });
    try {
      const { eni } = await provider.localFacts();
      await executor.apply(planNodeSetup(eni));
    } catch (e) {
      this.#log.error('node setup incomplete', { err: errorMessage(e) });
    }
  }

  async #drain(): Promise<void> {
    const service = this.#service;
    if (service === undefined) return;
    try {
      const res = await service.drainPending(pendingDirFor(this.#cfg.socket));
      if (res.released.length > 0 || res.skipped.length > 0) this.#log.info('pending releases drained', { released: res.released.length, skipped: res.skipped.length });
    } catch (e) {
      this.#log.warn('pending release drain failed', { err: errorMessage(e) });
    }
  }
}
