/** An in-memory ResourceFactory for the pool's unit tests: ENIs and IPs with latencies on a fake clock, failures on demand. */
import type { Cidr, IpAddr, MacAddr } from '../../../src/lib/brand.js';
import type { Clock } from '../../../src/lib/clock.js';
import type { VSwitchView } from '../../../src/pool/plan.js';
import type { EniResource, FactoryLimits, FailureKind, PoolJournal, PoolOperation, ResourceFactory } from '../../../src/pool/types.js';

export class FakeCloudError extends Error {
  constructor(readonly kind: FailureKind, message: string) {
    super(message);
  }
}

export class FakeFactory implements ResourceFactory {
  readonly name = 'fake-cloud';
  readonly enis = new Map<string, EniResource>();
  readonly calls: string[] = [];
  readonly failures: { action: string; kind: FailureKind; times: number }[] = [];
  vsws: VSwitchView[] = [{ id: 'vsw-a', available: 200 }, { id: 'vsw-b', available: 100 }];
  latency = { create: 3000, assign: 1000, unassign: 500, delete: 2000 };
  /** Calls that started on an ENI while another call on it was in flight (ECS would refuse them). */
  readonly overlaps: string[] = [];
  readonly #inFlight = new Set<string>();
  #next = 10;
  #seq = 0;
  readonly #tokens = new Map<string, unknown>();

  constructor(readonly clock: Clock, readonly caps: FactoryLimits = { maxEnis: 2, ipsPerEni: 10 }) {}

  fail(action: string, kind: FailureKind, times = 1): void {
    this.failures.push({ action, kind, times });
  }

  /** Runs a call on one ENI, recording an overlap when another call on it is in flight. */
  async #onEni<T>(eniId: string, what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#inFlight.has(eniId)) this.overlaps.push(`${what} ${eniId}`);
    this.#inFlight.add(eniId);
    try {
      return await fn();
    } finally {
      this.#inFlight.delete(eniId);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((r) => { this.clock.after(ms, r); });
  }

  #maybeFail(action: string): void {
    const f = this.failures.find((x) => x.action === action && x.times > 0);
    if (f === undefined) return;
    f.times--;
    throw new FakeCloudError(f.kind, `${action}: injected ${f.kind}`);
  }

  #ip(): IpAddr {
    return `192.168.${String(Math.floor(this.#next / 250))}.${String((this.#next++ % 250) + 1)}` as IpAddr;
  }

  limits(): Promise<FactoryLimits> {
    return Promise.resolve(this.caps);
  }
  vSwitches(): Promise<readonly VSwitchView[]> {
    return Promise.resolve(this.vsws);
  }
  listEnis(): Promise<readonly EniResource[]> {
    return Promise.resolve([...this.enis.values()]);
  }
  async createEni(vSwitchId: string, count: number, token: string): Promise<EniResource> {
    this.calls.push(`create ${vSwitchId} ${String(count)}`);
    const seen = this.#tokens.get(token);
    if (seen !== undefined) return seen as EniResource;
    await this.#sleep(this.latency.create);
    this.#maybeFail('create');
    const ips = Array.from({ length: count }, () => this.#ip());
    const id = `eni-${String(++this.#seq)}`;
    const res: EniResource = { id, mac: `02:00:00:00:00:${String(this.#seq).padStart(2, '0')}` as MacAddr, vSwitchId, cidr: '192.168.0.0/16' as Cidr, gateway: '192.168.0.253' as IpAddr, primaryIp: ips[0] as IpAddr, ips };
    this.enis.set(id, res);
    this.#tokens.set(token, res);
    return res;
  }
  assignIps(eniId: string, count: number): Promise<readonly IpAddr[]> {
    return this.#onEni(eniId, 'assign', () => this.#assign(eniId, count));
  }
  async #assign(eniId: string, count: number): Promise<readonly IpAddr[]> {
    this.calls.push(`assign ${eniId} ${String(count)}`);
    await this.#sleep(this.latency.assign);
    this.#maybeFail('assign');
    const e = this.enis.get(eniId);
    if (e === undefined) throw new FakeCloudError('fatal', `no ENI ${eniId}`);
    if (e.ips.length + count > this.caps.ipsPerEni) throw new FakeCloudError('eni-quota', `${eniId} full`);
    const ips = Array.from({ length: count }, () => this.#ip());
    this.enis.set(eniId, { ...e, ips: [...e.ips, ...ips] });
    return ips;
  }
  unassignIps(eniId: string, ips: readonly IpAddr[]): Promise<void> {
    return this.#onEni(eniId, 'unassign', () => this.#unassign(eniId, ips));
  }
  async #unassign(eniId: string, ips: readonly IpAddr[]): Promise<void> {
    this.calls.push(`unassign ${eniId} ${String(ips.length)}`);
    await this.#sleep(this.latency.unassign);
    this.#maybeFail('unassign');
    const e = this.enis.get(eniId);
    if (e !== undefined) this.enis.set(eniId, { ...e, ips: e.ips.filter((ip) => !ips.includes(ip)) });
  }
  deleteEni(eniId: string): Promise<void> {
    return this.#onEni(eniId, 'delete', () => this.#delete(eniId));
  }
  async #delete(eniId: string): Promise<void> {
    this.calls.push(`delete ${eniId}`);
    await this.#sleep(this.latency.delete);
    this.#maybeFail('delete');
    this.enis.delete(eniId);
  }
  classify(err: unknown): FailureKind {
    return err instanceof FakeCloudError ? err.kind : 'fatal';
  }
}

export class MemoryJournal implements PoolJournal {
  readonly ops = new Map<string, PoolOperation>();
  readonly begun: PoolOperation[] = [];
  saved: readonly EniResource[] = [];
  begin(op: PoolOperation): void {
    this.ops.set(op.id, op);
    this.begun.push(op);
  }
  end(id: string): void {
    this.ops.delete(id);
  }
  pending(): readonly PoolOperation[] {
    return [...this.ops.values()];
  }
  saveEnis(enis: readonly EniResource[]): void {
    this.saved = enis;
  }
  loadEnis(): readonly EniResource[] {
    return this.saved;
  }
}
