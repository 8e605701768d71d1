/**
 * The builtin backend's enforcer in the daemon, with a recording applier and a model source the test drives: which
 * scopes it programs for which leases, the pod laid over the model at ADD, coalesced applies, failure reporting,
 * removal when swapped out, and verify's drift. The nft side is covered with real packets in
 * test/privileged/policy/builtin-daemon.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import type { Cidr, IfName, IpAddr, MacAddr } from '../../../src/lib/brand.js';
import { silentLogger } from '../../../src/lib/log.js';
import type { NsRef } from '../../../src/netlink/ops.js';
import type { BuiltinApplier } from '../../../src/policy/builtin/apply.js';
import type { ProgrammedTable } from '../../../src/policy/builtin/listing.js';
import type { CompiledRuleset } from '../../../src/policy/builtin/compile.js';
import { buildModel } from '../../../src/policy/model/build.js';
import { parseNetworkPolicy } from '../../../src/policy/model/parse-policy.js';
import type { NetworkPolicy, PolicyModel } from '../../../src/policy/model/types.js';
import { BuiltinEnforcer } from '../../../src/daemon/policy/enforcer.js';
import type { PolicyModelSource } from '../../../src/daemon/policy/live-model.js';
import type { PodInfo } from '../../../src/k8s/types.js';
import type { Lease } from '../../../src/store/lease.js';
import { vethName } from '../../../src/lib/veth-name.js';
import { lease } from './helpers/fixtures.js';
import { eventually } from '../../helpers/wait.js';

const where = (ns: NsRef): string => (ns.kind === 'host' ? 'host' : ns.path);

class RecordingApplier implements BuiltinApplier {
  readonly calls: string[] = [];
  readonly texts = new Map<string, string>();
  failHost: string | undefined;
  /** What readBack answers per scope (default: one chain, and a map holding the isolated pods' interfaces). */
  readonly tables = new Map<string, ProgrammedTable | undefined>();
  apply(ns: NsRef, r: CompiledRuleset): Promise<void> {
    this.calls.push(`apply ${where(ns)}`);
    if (ns.kind === 'host' && this.failHost !== undefined) return Promise.reject(new Error(this.failHost));
    this.texts.set(where(ns), r.text);
    this.tables.set(where(ns), { table: r.table, chains: { c: { decl: '', rules: [] } }, sets: { ingress_pods: { decl: 'map', elements: r.isolated.map((i) => i.ifname) } }, others: [], rules: 0 });
    return Promise.resolve();
  }
  removePodTable(ns: NsRef): Promise<void> {
    this.calls.push(`remove ${where(ns)}`);
    return Promise.resolve();
  }
  removeTable(ns: NsRef, table: string): Promise<void> {
    this.calls.push(`remove ${where(ns)} ${table}`);
    this.tables.delete(where(ns));
    return Promise.resolve();
  }
  readBack(ns: NsRef): Promise<ProgrammedTable | undefined> {
    return Promise.resolve(this.tables.get(where(ns)));
  }
  cutDenied(ns: NsRef): Promise<readonly never[]> {
    this.calls.push(`cut ${where(ns)}`);
    return Promise.resolve([]);
  }
}

class Source implements PolicyModelSource {
  model: PolicyModel = buildModel({});
  readonly listeners = new Set<(m: PolicyModel) => void>();
  snapshot(): PolicyModel { return this.model; }
  objects(): readonly never[] { return []; }
  refused(): readonly string[] { return []; }
  onChange(l: (m: PolicyModel) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  set(policies: readonly NetworkPolicy[]): void {
    this.model = buildModel({ policies });
    for (const l of this.listeners) l(this.model);
  }
}

const denyIngress = (ns: string): NetworkPolicy =>
  parseNetworkPolicy({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: ns }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });

function podInfo(ns: string, name: string, labels: Record<string, string>): PodInfo {
  return { namespace: ns, name, uid: 'u', nodeName: 'n1', hostNetwork: false, annotations: {}, labels, owners: [], resourceVersion: '1' };
}

const ipvlanLease = (id: string, ip: string, ns: string, name: string): Lease =>
  lease(id, ip, {
    podNamespace: ns,
    podName: name,
    allocation: {
      mode: 'ipvlan',
      ip: ip as IpAddr,
      subnet: '10.1.0.0/24' as Cidr,
      mtu: 1500,
      eni: { link: 'eth1' as IfName, ifindex: 3, gateway: '10.1.0.1' as IpAddr, table: 1003 },
      eniMac: '02:00:00:00:00:01' as MacAddr,
      hostIp: '10.1.0.9' as IpAddr,
    },
  });

function harness(leases: Lease[], infos: PodInfo[] = [], retryDelayMs: (failedRuns: number) => number = () => 60_000) {
  const applier = new RecordingApplier();
  const source = new Source();
  const runs: boolean[] = [];
  const enforcer = new BuiltinEnforcer({
    model: source,
    leases: () => leases,
    podInfo: (ns, name) => Promise.resolve(infos.find((i) => i.namespace === ns && i.name === name)),
    applier,
    nodeName: 'n1',
    vethPrefix: () => 'cali',
    log: silentLogger,
    observe: (r) => { runs.push(r.ok); },
    retryDelayMs,
  });
  return { applier, source, enforcer, runs };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe('BuiltinEnforcer', () => {
  it('veth leases go to the host table keyed by their host veth, ipvlan leases to a table in their netns; unchanged rules are not applied again', async () => {
    const veth = lease('c1', '10.0.0.5', { podNamespace: 'x', podName: 'a' });
    const owned = ipvlanLease('c2', '10.1.0.5', 'x', 'b');
    const h = harness([veth, owned], [podInfo('x', 'a', { app: 'a' }), podInfo('x', 'b', { app: 'b' })]);
    h.source.set([denyIngress('x')]);
    await h.enforcer.enable();
    expect(h.applier.calls.filter((c) => c.startsWith('apply'))).toEqual(['apply host', 'apply /var/run/netns/c2']);
    // the pods are not in the model (no IP in the API yet): nothing isolated, but the scopes exist
    expect(h.applier.texts.get('host')).not.toContain(vethName('cali', { namespace: 'x', name: 'a' }));
    await h.enforcer.isolate(veth);
    expect(h.applier.texts.get('host')).toContain(`"${vethName('cali', { namespace: 'x', name: 'a' })}" : jump pod0_in`);
    await h.enforcer.isolate(owned);
    expect(h.applier.texts.get('/var/run/netns/c2')).toContain('"eth0" : jump pod0_in');
    const applies = h.applier.calls.filter((c) => c.startsWith('apply')).length;
    h.source.set([denyIngress('x')]); // same rules
    await settle();
    expect(h.applier.calls.filter((c) => c.startsWith('apply')).length).toBe(applies);
    expect(h.enforcer.status()).toMatchObject({ state: 'enforcing', scopes: 2 });
    expect(h.enforcer.status().rules).toBeGreaterThan(0);
  });

  it('a burst of model changes is coalesced into few applies, the last state winning', async () => {
    const h = harness([lease('c1', '10.0.0.5', { podNamespace: 'x', podName: 'a' })], [podInfo('x', 'a', {})]);
    await h.enforcer.enable();
    await h.enforcer.isolate(lease('c1', '10.0.0.5', { podNamespace: 'x', podName: 'a' }));
    const before = h.applier.calls.length;
    for (let i = 0; i < 20; i++) h.source.set(i % 2 === 0 ? [] : [denyIngress('x')]);
    await settle();
    await settle();
    const applies = h.applier.calls.slice(before).filter((c) => c.startsWith('apply')).length;
    expect(applies).toBeGreaterThan(0);
    expect(applies).toBeLessThanOrEqual(2);
    expect(h.applier.texts.get('host')).toContain('isolated by x/deny');
  });

  it('a host apply that fails fails the ADD waiting for it and is reported in the status', async () => {
    const l = lease('c1', '10.0.0.5', { podNamespace: 'x', podName: 'a' });
    const h = harness([l], [podInfo('x', 'a', {})]);
    await h.enforcer.enable();
    h.applier.failHost = 'nft: Operation not permitted';
    h.source.set([denyIngress('x')]);
    await expect(h.enforcer.isolate(l)).rejects.toThrow(/NetworkPolicy rules not programmed \(host\): nft: Operation not permitted/u);
    expect(h.enforcer.status()).toMatchObject({ state: 'failing', lastError: 'host: nft: Operation not permitted' });
    expect(h.runs).toContain(false);
    h.applier.failHost = undefined;
    await h.enforcer.isolate(l);
    expect(h.enforcer.status().state).toBe('enforcing');
  });

  it('a failed run: not ready, naming the scope and error, retried backing off until a run succeeds; then ready and no more retries', async () => {
    const l = lease('c1', '10.0.0.5', { podNamespace: 'x', podName: 'a' });
    const asked: number[] = [];
    const h = harness([l], [podInfo('x', 'a', {})], (n) => { asked.push(n); return 5; });
    h.applier.failHost = 'nft: Operation not permitted';
    h.source.set([denyIngress('x')]);
    expect(h.enforcer.notReadyReason()).toBeUndefined();
    await expect(h.enforcer.enable()).rejects.toThrow(/nft: Operation not permitted/u);
    expect(h.enforcer.notReadyReason()).toBe('builtin NetworkPolicy rules not programmed: host: nft: Operation not permitted');
    await eventually(() => { expect(asked.slice(0, 3)).toEqual([1, 2, 3]); }, 2000, 5); // retried, failing in a row
    expect(h.enforcer.status().state).toBe('failing');
    h.applier.failHost = undefined;
    await eventually(() => { expect(h.enforcer.notReadyReason()).toBeUndefined(); }, 2000, 5);
    expect(h.enforcer.status()).toMatchObject({ state: 'enforcing' });
    const applies = h.applier.calls.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(h.applier.calls.length).toBe(applies);
    h.applier.failHost = 'again';
    await expect(h.enforcer.isolate(l)).rejects.toThrow(/again/u); // the pod joins: another ruleset to apply
    expect(h.enforcer.status().state).toBe('failing');
    expect(asked.at(-1)).toBe(1); // a new streak
    h.enforcer.stop(); // no retry after stop
    const stopped = h.applier.calls.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(h.applier.calls.length).toBe(stopped);
  });

  it('not enabled: isolate does nothing; disable removes the host table and every pod-netns table', async () => {
    const h = harness([lease('c1', '10.0.0.5', { podNamespace: 'x', podName: 'a' }), ipvlanLease('c2', '10.1.0.5', 'x', 'b')]);
    await h.enforcer.isolate(lease('c1', '10.0.0.5', { podNamespace: 'x', podName: 'a' }));
    expect(h.applier.calls).toEqual([]);
    await h.enforcer.enable();
    await h.enforcer.disable();
    expect(h.applier.calls.filter((c) => c.startsWith('remove'))).toEqual(['remove host inet terway-hub', 'remove /var/run/netns/c2 inet terway-hub-pod']);
    expect(h.enforcer.status()).toMatchObject({ state: 'inactive', rules: 0 });
    const n = h.applier.calls.length;
    h.source.set([denyIngress('x')]);
    await settle();
    expect(h.applier.calls.length).toBe(n); // no longer follows the model
  });

  it('disable sweeps once: repeated on every accepted config (Felix or Cilium chosen) it runs no nft until the next enable', async () => {
    const h = harness([lease('c1', '10.0.0.5', { podNamespace: 'x', podName: 'a' })]);
    await h.enforcer.disable(); // a daemon start: tables a run before left behind go
    await h.enforcer.disable();
    await h.enforcer.disable();
    expect(h.applier.calls.filter((c) => c.startsWith('remove'))).toEqual(['remove host inet terway-hub']);
    await h.enforcer.enable();
    await h.enforcer.disable();
    expect(h.applier.calls.filter((c) => c.startsWith('remove'))).toEqual(['remove host inet terway-hub', 'remove host inet terway-hub']);
  });

  it('verify: no drift right after an apply; a changed table and a missing one are named', async () => {
    const l = lease('c1', '10.0.0.5', { podNamespace: 'x', podName: 'a' });
    const h = harness([l, ipvlanLease('c2', '10.1.0.5', 'x', 'b')], [podInfo('x', 'a', {})]);
    h.source.set([denyIngress('x')]);
    await h.enforcer.enable();
    await h.enforcer.isolate(l);
    expect(await h.enforcer.verify()).toEqual({ scopes: ['host', '/var/run/netns/c2'], drift: [] });
    const t = h.applier.tables.get('host');
    if (t === undefined) throw new Error('no host table');
    h.applier.tables.set('host', { ...t, chains: { ...t.chains, evil: { decl: '', rules: [] } }, sets: { ingress_pods: { decl: 'map', elements: [] } } });
    h.applier.tables.delete('/var/run/netns/c2');
    const r = await h.enforcer.verify();
    expect(r.drift).toEqual([
      'host: extra chain evil',
      'host: set ingress_pods holds 0 elements, the model gives 1',
      `host: set ingress_pods lacks ${vethName('cali', { namespace: 'x', name: 'a' })}`,
      '/var/run/netns/c2: missing table inet terway-hub-pod',
    ]);
  });

  it('DEL: the pod leaves the overlay and its pod-netns table is removed', async () => {
    const owned = ipvlanLease('c2', '10.1.0.5', 'x', 'b');
    const leases = [owned];
    const h = harness(leases, [podInfo('x', 'b', {})]);
    h.source.set([denyIngress('x')]);
    await h.enforcer.enable();
    await h.enforcer.isolate(owned);
    leases.splice(0);
    h.enforcer.released(owned);
    await settle();
    expect(h.applier.calls).toContain('remove /var/run/netns/c2 inet terway-hub-pod');
    expect((await h.enforcer.verify()).scopes).toEqual([]);
  });
});
