/** Test helpers: a real client-node KubeClient wired to an emulator, fast timings, and object builders. */
import type { CreateKubeApiOptions, KubeClient } from '../../src/k8s/client.js';
import { createKubeApi } from '../../src/k8s/client.js';
import type { Logger } from '../../src/lib/log.js';
import { silentLogger } from '../../src/lib/log.js';
import type { KubeEmulator } from './emulator.js';

export const FAST_TIMING = { resyncMs: 0, backoffInitialMs: 20, backoffMaxMs: 200, minWatchMs: 50 } as const;

export function emulatedKubeApi(emu: KubeEmulator, overrides: Partial<Omit<CreateKubeApiOptions, 'log'>> & { log?: Logger } = {}): KubeClient {
  return createKubeApi({
    kubeconfigPath: emu.kubeconfigFile(),
    log: silentLogger,
    watchTimeoutSeconds: 30,
    requestTimeoutMs: 5000,
    ...overrides,
    timing: { ...FAST_TIMING, ...overrides.timing },
  });
}

export function pod(name: string, nodeName: string, extra: { namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: extra.namespace ?? 'default', labels: extra.labels ?? {}, annotations: extra.annotations ?? {} },
    spec: { nodeName, containers: [{ name: 'app', image: 'busybox' }] },
    status: { phase: 'Running' },
  };
}

export function node(name: string, extra: { labels?: Record<string, string>; podCIDR?: string } = {}): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: extra.labels ?? {} },
    spec: extra.podCIDR === undefined ? {} : { podCIDR: extra.podCIDR },
    status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: '2024-01-01T00:00:00Z', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
  };
}
