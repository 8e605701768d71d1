/** Which pods bound to the node await their IP (schedule-time demand), and what the feed tells the pool. */
import { awaitsIp, ScheduledPods } from '../../../src/daemon/k8s/scheduled-pods.js';
import type { Informer, InformerEvent, PodInfo } from '../../../src/k8s/types.js';
import { silentLogger } from '../../../src/lib/log.js';

function podInfo(name: string, extra: Partial<PodInfo> = {}): PodInfo {
  return { namespace: 'ns', name, uid: `uid-${name}`, nodeName: 'node-1', hostNetwork: false, annotations: {}, labels: {}, owners: [], phase: 'Pending', resourceVersion: '1', ...extra };
}

class ListInformer implements Informer<PodInfo> {
  readonly pods = new Map<string, PodInfo>();
  #listeners: ((e: InformerEvent<PodInfo>) => void)[] = [];
  start(): Promise<void> { return Promise.resolve(); }
  stop(): void { this.#listeners = []; }
  list(): readonly PodInfo[] { return [...this.pods.values()]; }
  get(namespace: string, name: string): PodInfo | undefined { return this.pods.get(`${namespace}/${name}`); }
  on(l: (e: InformerEvent<PodInfo>) => void): () => void { this.#listeners.push(l); return () => { this.#listeners = this.#listeners.filter((x) => x !== l); }; }
  onError(): () => void { return () => undefined; }
  emit(e: InformerEvent<PodInfo>): void {
    if (e.type === 'delete') this.pods.delete(`${e.object.namespace}/${e.object.name}`);
    else this.pods.set(`${e.object.namespace}/${e.object.name}`, e.object);
    for (const l of this.#listeners) l(e);
  }
}

describe('awaitsIp', () => {
  it('a Pending pod of the pod network with no IP, no lease, not being deleted', () => {
    expect(awaitsIp(podInfo('a'), false)).toBe(true);
    const { phase, ...noPhase } = podInfo('a');
    expect(phase).toBe('Pending');
    expect(awaitsIp(noPhase, false)).toBe(true); // no status yet
    expect(awaitsIp(podInfo('a'), true)).toBe(false); // a lease or reservation already
    expect(awaitsIp(podInfo('a', { hostNetwork: true }), false)).toBe(false);
    expect(awaitsIp(podInfo('a', { podIp: '192.168.0.9' }), false)).toBe(false);
    expect(awaitsIp(podInfo('a', { deletionTimestamp: '2026-01-01T00:00:00Z' }), false)).toBe(false);
    for (const phase of ['Running', 'Succeeded', 'Failed']) expect(awaitsIp(podInfo('a', { phase }), false)).toBe(false);
  });
});

describe('ScheduledPods', () => {
  it('expects the pods already listed and those bound later; forgets them once they have an IP or are deleted', () => {
    const inf = new ListInformer();
    inf.pods.set('ns/old', podInfo('old'));
    inf.pods.set('ns/leased', podInfo('leased'));
    const told: string[] = [];
    const feed = new ScheduledPods({
      pods: inf,
      demand: { expect: (p) => told.push(`+${p}`), forget: (p) => told.push(`-${p}`) },
      holdsIp: (_ns, name) => name === 'leased',
      log: silentLogger,
    });
    feed.start();
    expect(told).toEqual(['+ns/old', '-ns/leased']);
    told.length = 0;
    inf.emit({ type: 'add', object: podInfo('new') });
    inf.emit({ type: 'update', object: podInfo('new', { podIp: '192.168.0.20', phase: 'Running' }) });
    inf.emit({ type: 'add', object: podInfo('gone') });
    inf.emit({ type: 'delete', object: podInfo('gone') });
    expect(told).toEqual(['+ns/new', '-ns/new', '+ns/gone', '-ns/gone']);
    feed.stop();
    inf.emit({ type: 'add', object: podInfo('late') });
    expect(told).toHaveLength(4);
  });
});
