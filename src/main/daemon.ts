/** Composition root of the node daemon: `terway-hub daemon --config FILE [flags]`. Flags override the file. */
import { parseArgs } from 'node:util';
import type { DaemonConfig } from '../config/daemon-config.js';
import { loadDaemonConfig } from '../config/load.js';
import type { KubeApi } from '../k8s/types.js';
import { Daemon, type DaemonContext, type NodeComponent } from '../daemon/daemon.js';
import { EniDevicePlugin } from '../device-plugin/index.js';
import { gcComponent } from '../gc/index.js';
import { observeState } from '../netlink/observe.js';
import { HOST } from '../netlink/ops.js';
import { nodeAdapters, type NodeAdapters } from './adapters.js';
import { errorMessage } from '../lib/errors.js';
import { linkByMacFrom } from '../cloud/host-links.js';
import { devicePluginCapacity } from '../device-plugin/capacity.js';
import { createLogger, parseLogLevel, type Logger } from '../lib/log.js';

export const DAEMON_USAGE = `usage: terway-hub daemon [--config FILE] [--mode vpc|veth-policy-routing|ipvlan|eni] [--socket PATH]
                        [--state-dir DIR] [--http-listen ADDR] [--cni-conf-dir DIR] [--log-level LEVEL]
                        [--kubeconfig FILE] [--node-name NAME]
  Kubernetes is used when --kubeconfig, KUBECONFIG or the in-cluster env (KUBERNETES_SERVICE_HOST) is present;
  the node name comes from --node-name, the config's nodeName or NODE_NAME.`;

/** Pure: whether the daemon should talk to Kubernetes, and with which kubeconfig (undefined → client default). */
export function kubeSettings(cfg: DaemonConfig, env: Readonly<Record<string, string | undefined>>): { readonly enabled: boolean; readonly kubeconfig?: string } {
  const explicit = cfg.kubeconfig ?? nonEmpty(env.KUBECONFIG);
  if (explicit !== undefined) return { enabled: true, kubeconfig: explicit };
  return { enabled: nonEmpty(env.KUBERNETES_SERVICE_HOST) !== undefined };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

async function kubeFor(cfg: DaemonConfig, log: Logger): Promise<KubeApi | undefined> {
  const k = kubeSettings(cfg, process.env);
  if (!k.enabled) return undefined;
  // loaded only when used: the daemon without Kubernetes never loads @kubernetes/client-node
  const { createKubeApi } = await import('../k8s/client.js');
  const nodeName = cfg.nodeName ?? nonEmpty(process.env.NODE_NAME);
  log.info('kubernetes configured', { kubeconfig: k.kubeconfig ?? '(in-cluster/default)', nodeName: nodeName ?? '(unset)' });
  return createKubeApi({ log, ...(k.kubeconfig !== undefined ? { kubeconfigPath: k.kubeconfig } : {}), ...(nodeName !== undefined ? { eventHost: nodeName } : {}) });
}

export async function runDaemon(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c' },
      mode: { type: 'string' },
      socket: { type: 'string' },
      'state-dir': { type: 'string' },
      'http-listen': { type: 'string' },
      'cni-conf-dir': { type: 'string' },
      'log-level': { type: 'string' },
      kubeconfig: { type: 'string' },
      'node-name': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(`${DAEMON_USAGE}\n`);
    return 0;
  }
  const cfg = await loadDaemonConfig(values.config, {
    mode: values.mode,
    socket: values.socket,
    stateDir: values['state-dir'],
    httpListen: values['http-listen'],
    cniConfDir: values['cni-conf-dir'],
    logLevel: values['log-level'],
    kubeconfig: values.kubeconfig,
    nodeName: values['node-name'],
  });
  const log = createLogger(process.stderr, parseLogLevel(cfg.logLevel), { component: 'daemon' });
  const kube = await kubeFor(cfg, log);
  // the Aliyun clients' timings reach the daemon's metrics (built just below; no call is made before it exists)
  const metrics: { daemon?: Daemon } = {};
  const adapters = nodeAdapters({ log, onCloudCall: (c) => { metrics.daemon?.observeCloudCall(c); } });
  const daemon = new Daemon(cfg, {
    log,
    lockStateDir: adapters.lockStateDir,
    openStore: adapters.openStore,
    providerFor: adapters.providerFor,
    executorFor: adapters.executorFor,
    readSysctl: adapters.readSysctl,
    linkByMac: linkByMacFrom(),
    pluginVersions: adapters.pluginVersions,
    observeHost: (signal) => observeState(adapters.runner, HOST, signal),
    policy: adapters.policyFor(cfg, process.env),
    components: (ctx) => nodeComponents(ctx, adapters),
    ...(kube !== undefined ? { kube } : {}),
  });
  metrics.daemon = daemon;
  await daemon.start();
  return waitForSignal(daemon, log);
}

/** GC (at start, periodically, and behind the CNI GC verb) and, when enabled, the kubelet device plugin. */
function nodeComponents(ctx: DaemonContext, adapters: NodeAdapters): readonly NodeComponent[] {
  const gc = gcComponent(ctx, { runner: adapters.runner, executorFor: adapters.executorFor, intervalMs: ctx.config.gcIntervalSeconds * 1000, onResult: (r) => { ctx.ops?.gcPass(r); } });
  ctx.service.setAttachmentGc((req) => gc.gcAttachments(req.validAttachments));
  const dp = ctx.config.devicePlugin;
  return [
    gc,
    ...(dp.enabled
      ? [new EniDevicePlugin({ capacity: devicePluginCapacity(ctx.service.runtime.provider.mode, dp.capacity, ctx.exclusiveEniCapacity?.()), dir: dp.dir, log: ctx.log.child({ component: 'device-plugin' }) })]
      : []),
  ];
}

function waitForSignal(daemon: Daemon, log: Logger): Promise<number> {
  return new Promise((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      log.info('signal received, stopping', { signal: sig });
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      daemon
        .stop()
        .then(() => { resolve(0); })
        .catch((e: unknown) => {
          log.error('stop failed', { err: errorMessage(e) });
          resolve(1);
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
