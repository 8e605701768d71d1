/**
 * A daemon with the Kubernetes emulator (FakeKube) for the `why` suites, asked over its real socket: start it with a
 * config and optional provider/policy overrides, ask `why` through the RPC client, read the pods' events.
 */
import { join } from 'node:path';
import { parseDaemonConfig, type DaemonConfig } from '../../../../src/config/daemon-config.js';
import { Daemon, type DaemonDeps } from '../../../../src/daemon/daemon.js';
import { nodeAdapters } from '../../../../src/main/adapters.js';
import { createNodeRpcClient } from '../../../../src/rpc/exchange-node.js';
import type { WhyReply } from '../../../../src/rpc/protocol.js';
import { tempDir } from '../../../helpers/tmp.js';
import type { FakeKube } from '../fake-kube.js';

export function whyConfig(dir: string, extra: Record<string, unknown> = {}): DaemonConfig {
  return parseDaemonConfig({
    mode: 'veth-policy-routing',
    socket: join(dir, 'run', 'daemon.sock'),
    stateDir: join(dir, 'state'),
    cniConfDir: join(dir, 'net.d'),
    httpListen: '',
    local: { eni: { link: 'eth1', gateway: '192.168.0.1', ips: '192.168.0.10-192.168.0.20', subnet: '192.168.0.0/24' } },
    vpc: { podCIDR: '10.9.0.0/24' },
    ...extra,
  });
}

export const hostAdapters = (): ReturnType<typeof nodeAdapters> =>
  nodeAdapters({
    sysctl: () => Promise.resolve(),
    runner: { run: () => Promise.resolve({ stdout: '', stderr: '', exitCode: 0 }) },
    sysfs: (p) => Promise.resolve(p.endsWith('/address') ? '02:00:00:00:00:07' : '7'),
  });

export interface WhyDaemon {
  readonly daemon: Daemon;
  readonly cfg: DaemonConfig;
  why(pod: string): Promise<WhyReply>;
  /** Background Kubernetes work (events) done. */
  settle(): Promise<void>;
  /** The `AllocIPWaiting` messages posted on the pod so far. */
  waitEvents(pod: string): Promise<string[]>;
}

export async function startWhyDaemon(kube: FakeKube, extra: Record<string, unknown> = {}, deps: (cfg: DaemonConfig, base: ReturnType<typeof nodeAdapters>) => Partial<DaemonDeps> = () => ({})): Promise<WhyDaemon> {
  const cfg = whyConfig(tempDir('hub-why-'), extra);
  const base = hostAdapters();
  const daemon = new Daemon(cfg, { kube, nodeName: kube.nodeName, ...base, kubeRetry: { attempts: 3, baseDelayMs: 1 }, waitTiming: { refreshMs: 100, repostMs: 30_000 }, ...deps(cfg, base) });
  await daemon.start();
  const client = createNodeRpcClient(cfg.socket, 5000);
  const settle = async (): Promise<void> => {
    await daemon.agent?.config.settled();
    await daemon.agent?.reporter.idle();
  };
  await settle();
  return {
    daemon,
    cfg,
    why: (pod) => {
      const [namespace = '', name = ''] = pod.split('/');
      return client.why({ namespace, name });
    },
    settle,
    waitEvents: async (pod) => {
      await settle();
      const [namespace, name] = pod.split('/');
      return kube.events.filter((e) => e.reason === 'AllocIPWaiting' && e.target.namespace === namespace && e.target.name === name).map((e) => e.message);
    },
  };
}
