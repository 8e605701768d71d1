/**
 * The node daemon's real adapters, built here and only here (the composition root): the state dir's instance lock,
 * the lease store, the process runner (argv only), the ip/tc executor over it, the embedded local cloud provider,
 * the policy backend's process spawner and health prober, and the probe asking the chain's CNI plugins their
 * versions. The daemon and GC receive them as
 * factories; tests build the same set with a fake runner, sysctl writer or sysfs reader.
 */
import { createLocalProvider, readSysfs, type SysfsReader } from '../cloud/local/provider.js';
import type { CloudProvider } from '../cloud/types.js';
import { AliyunProviders } from '../cloud/aliyun/provider.js';
import type { CloudCallObserver } from '../cloud/aliyun/call-observer.js';
import { linkByMacFrom } from '../cloud/host-links.js';
import { silentLogger, type Logger } from '../lib/log.js';
import type { DaemonConfig } from '../config/daemon-config.js';
import { createProcessRunner, createProcessSpawner, type CommandRunner, type ProcessSpawner } from '../lib/exec.js';
import { createHttpProber, type HealthProber } from '../policy/supervisor/probe.js';
import { InstanceLock } from '../store/instance-lock.js';
import { LeaseStore } from '../store/store.js';
import { createExecutor, type ExecutorFactory, type SysctlWriter } from '../netlink/executor.js';
import { PluginVersionProbe } from '../daemon/plugin-versions.js';
import { procSysctlReader, type SysctlReader } from '../daemon/node-setup.js';
import { hostname } from 'node:os';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { writeFileAtomic } from '../daemon/install.js';
import type { PolicyAdapters } from '../daemon/policy/adapters.js';
import { startHealthResponder } from '../daemon/policy/responder.js';
import { sysctlPath } from '../netlink/render.js';
import { cleanResidue, type CleanupFs } from '../policy/cleanup/clean.js';
import { detectIptablesBackend } from '../policy/detect-iptables.js';
import { detectNftablesProblem } from '../policy/detect-nftables.js';
import { createBuiltinApplier } from '../policy/builtin/apply.js';
import type { KubeAccess } from '../policy/types.js';

export interface NodeAdapters {
  /** One daemon per state dir: a kernel lock held for the process's lifetime. */
  readonly lockStateDir: (stateDir: string) => InstanceLock;
  /** The SQLite lease store. */
  readonly openStore: (stateDir: string) => LeaseStore;
  /** Runs ip(8)/tc(8) (GC observes the host through it). */
  readonly runner: CommandRunner;
  /** Executors over `runner`, one per component (node setup, live bandwidth, GC). */
  readonly executorFor: ExecutorFactory;
  /** The provider of an effective config: the local one, or Aliyun's (`cloud.provider`; one session per instance). */
  readonly providerFor: (cfg: DaemonConfig) => CloudProvider | Promise<CloudProvider>;
  /** Starts the policy backend's long-running process (src/policy/supervisor.ts). */
  readonly spawner: ProcessSpawner;
  /** The policy backend's HTTP health probes on loopback. */
  readonly prober: HealthProber;
  /** Reads /proc/sys (node setup writes a sysctl only when its value differs). */
  readonly readSysctl: SysctlReader;
  /** Asks the chain's CNI plugin binaries `VERSION` (through its own process runner; cached per binary). */
  readonly pluginVersions: PluginVersionProbe;
  /** Running the NetworkPolicy backend (supervisor, residue cleanup, files, responder, node facts). */
  policyFor(cfg: DaemonConfig, env: Readonly<Record<string, string | undefined>>): PolicyAdapters;
}

/** Replacements for the parts that touch the host (tests). */
export interface AdapterOverrides {
  readonly runner?: CommandRunner;
  /** Writes /proc/sys (default: the file itself). */
  readonly sysctl?: SysctlWriter;
  /** Reads /proc/sys (default: the file itself; with a fake writer and no reader, every value reads as unknown). */
  readonly readSysctl?: SysctlReader;
  /** Reads /sys and /proc (the local provider's ENI ifindex and MAC, the kernel's ipvlan module and release). */
  readonly sysfs?: SysfsReader;
  readonly spawner?: ProcessSpawner;
  readonly prober?: HealthProber;
  /** Runs the chain's CNI plugins for VERSION (default: a real process runner, even when `runner` is a fake). */
  readonly pluginRunner?: CommandRunner;
  /** The file system the policy residue cleanup removes from (default: the real one). */
  readonly cleanupFs?: CleanupFs;
  /** The Aliyun provider's log (it logs its session, never a secret); default: silent. */
  readonly log?: Logger;
  /** Told after every Aliyun OpenAPI attempt and metadata request (the daemon's latency metrics). */
  readonly onCloudCall?: CloudCallObserver;
}

const realCleanupFs: CleanupFs = {
  remove: (path) => rm(path, { recursive: true, force: true }),
  list: (dir) => readdir(dir).catch(() => []),
};

/** How backend processes reach the API server: the daemon's own kubeconfig or in-cluster service (pure). */
export function kubeAccessOf(cfg: DaemonConfig, env: Readonly<Record<string, string | undefined>>): KubeAccess {
  const kubeconfig = cfg.kubeconfig ?? (env.KUBECONFIG !== undefined && env.KUBECONFIG !== '' ? env.KUBECONFIG : undefined);
  return {
    namespace: cfg.kubeNamespace,
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    ...(env.KUBERNETES_SERVICE_HOST !== undefined && env.KUBERNETES_SERVICE_HOST !== '' ? { serviceHost: env.KUBERNETES_SERVICE_HOST } : {}),
    ...(env.KUBERNETES_SERVICE_PORT !== undefined && env.KUBERNETES_SERVICE_PORT !== '' ? { servicePort: env.KUBERNETES_SERVICE_PORT } : {}),
  };
}

export function nodeAdapters(o: AdapterOverrides = {}): NodeAdapters {
  const runner = o.runner ?? createProcessRunner();
  const { sysctl, sysfs } = o;
  const local = (cfg: DaemonConfig): CloudProvider => createLocalProvider(cfg, sysfs ?? readSysfs, runner);
  const aliyun = new AliyunProviders({ read: sysfs ?? readSysfs, linkByMac: linkByMacFrom(), runner, log: (o.log ?? silentLogger).child({ component: 'aliyun' }), ...(o.onCloudCall !== undefined ? { onCall: o.onCloudCall } : {}) });
  return {
    lockStateDir: (dir) => InstanceLock.acquire(dir),
    openStore: (dir) => LeaseStore.open(dir),
    runner,
    readSysctl: o.readSysctl ?? (sysctl !== undefined ? () => Promise.reject(new Error('no sysctl reader (a fake writer)')) : procSysctlReader),
    executorFor: (log) => createExecutor({ runner, log, ...(sysctl !== undefined ? { writeSysctl: sysctl } : {}) }),
    providerFor: (cfg) => (cfg.cloud.provider === 'aliyun' ? aliyun.providerFor(cfg, () => local(cfg)) : local(cfg)),
    spawner: o.spawner ?? createProcessSpawner(),
    prober: o.prober ?? createHttpProber(),
    pluginVersions: new PluginVersionProbe({ runner: o.pluginRunner ?? (o.runner === undefined ? runner : createProcessRunner()) }),
    policyFor: (cfg, env) => ({
      spawner: o.spawner ?? createProcessSpawner(),
      prober: o.prober ?? createHttpProber(),
      cleanResidue: (residues) =>
        cleanResidue(residues, {
          runner,
          fs: o.cleanupFs ?? realCleanupFs,
          writeSysctl: (key, value) => (sysctl ?? ((path: string, v: string) => writeFile(path, v)))(sysctlPath(key), value),
        }),
      writeFile: async (f) => { await writeFileAtomic(dirname(f.path), basename(f.path), f.content, f.mode); },
      startResponder: startHealthResponder,
      builtinApplier: createBuiltinApplier(runner),
      nodeFacts: async () => {
        const [iptables, nftablesProblem] = await Promise.all([detectIptablesBackend(runner), detectNftablesProblem(runner)]);
        return { iptablesBackend: iptables.backend, ...(nftablesProblem !== undefined ? { nftablesProblem } : {}) };
      },
      kubeAccess: kubeAccessOf(cfg, env),
      hostname,
    }),
  };
}
