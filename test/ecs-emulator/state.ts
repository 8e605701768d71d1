/**
 * The emulated region's resources: vSwitches (CIDR, zone, free addresses), instance types (ENI and IP quotas),
 * instances, ENIs with their private IPs, and the asynchronous transitions (Attaching → InUse, Detaching →
 * Available) driven by timers. Pure state plus timers; the HTTP layer (server.ts) maps requests onto it.
 */
import { randomBytes } from 'node:crypto';
import { ecsError } from './errors.js';

export type EniStatus = 'Available' | 'Attaching' | 'InUse' | 'Detaching' | 'Deleting';
export type EniType = 'Primary' | 'Secondary' | 'Trunk';

export interface InstanceTypeSpec {
  readonly id: string;
  readonly family: string;
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly eniQuantity: number;
  readonly eniPrivateIpAddressQuantity: number;
  readonly eniIpv6AddressQuantity: number;
  readonly eniTotalQuantity: number;
  readonly eniTrunkSupported: boolean;
}

export interface VSwitch {
  readonly id: string;
  readonly zoneId: string;
  readonly vpcId: string;
  readonly cidr: string;
  /** Aliyun's vSwitch gateway: the last-but-two address of the CIDR (.253 of a /24). */
  readonly gateway: string;
  readonly used: Set<string>;
  /** Fault: every allocation here fails with InvalidVSwitchId.IpNotEnough. */
  ipNotEnough: boolean;
}

export interface Instance {
  readonly id: string;
  readonly type: string;
  readonly zoneId: string;
  readonly vpcId: string;
  readonly vSwitchId: string;
  readonly primaryEniId: string;
}

export interface IpEntry {
  readonly ip: string;
  readonly primary: boolean;
  /** When the address was assigned (ms): the metadata service lists it `metadataLagMs` later. */
  readonly assignedAt: number;
}

export interface Eni {
  readonly id: string;
  readonly mac: string;
  readonly type: EniType;
  status: EniStatus;
  readonly vSwitchId: string;
  readonly zoneId: string;
  readonly vpcId: string;
  readonly securityGroupIds: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  readonly description: string;
  readonly name: string;
  readonly creationTime: string;
  instanceId?: string;
  deviceIndex?: number;
  /** When the ENI became InUse on its instance (the metadata service lists its MAC `metadataLagMs` later). */
  inUseAt?: number;
  readonly ips: IpEntry[];
  /** Addresses unassigned at (ms): the metadata service still lists them for `metadataLagMs`. */
  readonly unassigned: Map<string, number>;
}

export interface HostLinkHook {
  /** The ENI became InUse on the metadata instance: make its host link appear. */
  attached(eni: Eni, vsw: VSwitch): Promise<void>;
  /** The ENI left the instance: make its host link disappear. */
  detached(eni: Eni, vsw: VSwitch): Promise<void>;
  /** An attached ENI's secondary IPs changed: the VPC delivers traffic for each to this ENI. */
  addressesChanged?(eni: Eni, vsw: VSwitch): Promise<void>;
}

export interface Timing {
  attachDelayMs: number;
  detachDelayMs: number;
  deleteDelayMs: number;
  metadataLagMs: number;
}

/** Unassigned ENIs accept up to 49 secondary addresses (doc comment of AssignPrivateIpAddresses). */
export const UNATTACHED_SECONDARY_MAX = 49;

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}
function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => String(Math.floor(n / 2 ** s) % 256)).join('.');
}
function cidrRange(cidr: string): { base: number; size: number; len: number } {
  const [ip = '', lenText = ''] = cidr.split('/');
  const len = Number(lenText);
  const size = 2 ** (32 - len);
  return { base: ipToInt(ip) - (ipToInt(ip) % size), size, len };
}
export function inCidr(cidr: string, ip: string): boolean {
  const { base, size } = cidrRange(cidr);
  const n = ipToInt(ip);
  return /^\d+\.\d+\.\d+\.\d+$/u.test(ip) && n >= base && n < base + size;
}
export function netmaskOf(cidr: string): string {
  const { len } = cidrRange(cidr);
  return intToIp(len === 0 ? 0 : 2 ** 32 - 2 ** (32 - len));
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
export function resourceId(prefix: string): string {
  return prefix + [...randomBytes(20)].map((b) => ALNUM[b % ALNUM.length]).join('');
}

export class EcsState {
  readonly vswitches = new Map<string, VSwitch>();
  readonly instanceTypes = new Map<string, InstanceTypeSpec>();
  readonly instances = new Map<string, Instance>();
  readonly enis = new Map<string, Eni>();
  readonly timing: Timing = { attachDelayMs: 50, detachDelayMs: 50, deleteDelayMs: 0, metadataLagMs: 0 };
  hook: HostLinkHook | undefined;
  /** Errors the host hook raised (a test asserts there are none). */
  readonly hookErrors: unknown[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private macCounter = 1 + (randomBytes(2).readUInt16BE(0) % 60_000);

  constructor(
    readonly regionId: string,
    private readonly clock: () => number = Date.now,
  ) {}

  now(): number {
    return this.clock();
  }

  addVSwitch(v: { id: string; zoneId: string; vpcId: string; cidr: string }): VSwitch {
    const { base, size } = cidrRange(v.cidr);
    const vsw: VSwitch = { ...v, gateway: intToIp(base + size - 3), used: new Set(), ipNotEnough: false };
    this.vswitches.set(v.id, vsw);
    return vsw;
  }

  addInstance(i: { id?: string; type: string; vSwitchId: string; primaryIp?: string }): Instance {
    const vsw = this.vswitch(i.vSwitchId);
    if (!this.instanceTypes.has(i.type)) throw new Error(`unknown instance type ${i.type}`);
    const id = i.id ?? resourceId('i-');
    const primary = this.newEni({ vSwitchId: vsw.id, type: 'Primary', securityGroupIds: ['sg-primary'], tags: {}, description: '', name: '', ...(i.primaryIp === undefined ? {} : { primaryIp: i.primaryIp }), secondaryCount: 0 });
    primary.status = 'InUse';
    primary.instanceId = id;
    primary.deviceIndex = 0;
    primary.inUseAt = this.now();
    const inst: Instance = { id, type: i.type, zoneId: vsw.zoneId, vpcId: vsw.vpcId, vSwitchId: vsw.id, primaryEniId: primary.id };
    this.instances.set(id, inst);
    return inst;
  }

  vswitch(id: string): VSwitch {
    const v = this.vswitches.get(id);
    if (v === undefined) throw ecsError('InvalidVSwitchId.NotFound', `(${id})`);
    return v;
  }

  instance(id: string): Instance {
    const i = this.instances.get(id);
    if (i === undefined) throw ecsError('InvalidEcsId.NotFound', `(${id})`);
    return i;
  }

  eni(id: string): Eni {
    const e = this.enis.get(id);
    if (e === undefined) throw ecsError('InvalidEniId.NotFound', `(${id})`);
    return e;
  }

  instanceType(instanceId: string): InstanceTypeSpec {
    const t = this.instanceTypes.get(this.instance(instanceId).type);
    if (t === undefined) throw new Error('instance type vanished');
    return t;
  }

  freeCount(vswId: string): number {
    const v = this.vswitch(vswId);
    const { size } = cidrRange(v.cidr);
    return size - 4 - v.used.size; // network, and the last three (gateway included) are reserved
  }

  /** Takes `n` addresses (or the explicit ones) from the vSwitch, all or none. */
  private takeIps(vsw: VSwitch, n: number, explicit: readonly string[] = []): string[] {
    if (vsw.ipNotEnough) throw ecsError('InvalidVSwitchId.IpNotEnough');
    for (const ip of explicit) {
      if (!inCidr(vsw.cidr, ip) || ip === vsw.gateway) throw ecsError('InvalidIp.Address', `(${ip})`);
      if (vsw.used.has(ip)) throw ecsError('InvalidIp.IpAssigned', `(${ip})`);
    }
    const { base, size } = cidrRange(vsw.cidr);
    const out = [...explicit];
    for (let k = 1; out.length < explicit.length + n && k < size - 3; k++) {
      const ip = intToIp(base + k);
      if (!vsw.used.has(ip) && !out.includes(ip)) out.push(ip);
    }
    if (out.length < explicit.length + n) throw ecsError('InvalidVSwitchId.IpNotEnough');
    for (const ip of out) vsw.used.add(ip);
    return out;
  }

  private nextMac(): string {
    const n = this.macCounter++;
    const r = randomBytes(1)[0] ?? 0;
    return ['00', '16', '3e', r.toString(16).padStart(2, '0'), ((n >> 8) & 0xff).toString(16).padStart(2, '0'), (n & 0xff).toString(16).padStart(2, '0')].join(':');
  }

  newEni(p: {
    vSwitchId: string;
    type: EniType;
    securityGroupIds: readonly string[];
    tags: Readonly<Record<string, string>>;
    description: string;
    name: string;
    primaryIp?: string;
    secondaryIps?: readonly string[];
    secondaryCount: number;
  }): Eni {
    const vsw = this.vswitch(p.vSwitchId);
    const explicit = [...(p.primaryIp === undefined ? [] : [p.primaryIp]), ...(p.secondaryIps ?? [])];
    const ips = this.takeIps(vsw, (p.primaryIp === undefined ? 1 : 0) + p.secondaryCount, explicit);
    const [primaryIp = ''] = p.primaryIp === undefined ? ips.slice(explicit.length) : [p.primaryIp];
    const rest = ips.filter((ip) => ip !== primaryIp);
    const now = this.now();
    const eni: Eni = {
      id: resourceId('eni-'),
      mac: this.nextMac(),
      type: p.type,
      status: 'Available',
      vSwitchId: vsw.id,
      zoneId: vsw.zoneId,
      vpcId: vsw.vpcId,
      securityGroupIds: p.securityGroupIds,
      tags: p.tags,
      description: p.description,
      name: p.name,
      creationTime: new Date(now).toISOString().replace(/\.\d{3}Z$/u, 'Z'),
      ips: [{ ip: primaryIp, primary: true, assignedAt: now }, ...rest.map((ip) => ({ ip, primary: false, assignedAt: now }))],
      unassigned: new Map(),
    };
    this.enis.set(eni.id, eni);
    return eni;
  }

  attachedTo(instanceId: string): Eni[] {
    return [...this.enis.values()].filter((e) => e.instanceId === instanceId && (e.status === 'InUse' || e.status === 'Attaching' || e.status === 'Detaching'));
  }

  attach(eniId: string, instanceId: string): void {
    const inst = this.instance(instanceId);
    const eni = this.eni(eniId);
    if (eni.status !== 'Available') throw ecsError('InvalidOperation.InvalidEniState', `(${eni.id} is ${eni.status})`);
    if (eni.zoneId !== inst.zoneId || eni.vpcId !== inst.vpcId) throw ecsError('InvalidOperation.InvalidEniState', '(the ENI is in another zone or VPC)');
    const spec = this.instanceType(instanceId);
    const onInstance = this.attachedTo(instanceId);
    if (onInstance.length >= spec.eniQuantity) throw ecsError('EniPerInstanceLimitExceeded', `(${spec.id}: ${String(spec.eniQuantity)} ENIs)`);
    if (eni.ips.length > spec.eniPrivateIpAddressQuantity) throw ecsError('InvalidOperation.Ipv4CountExceeded', `(${spec.id}: ${String(spec.eniPrivateIpAddressQuantity)} per ENI)`);
    const used = new Set(onInstance.map((e) => e.deviceIndex));
    let idx = 1;
    while (used.has(idx)) idx++;
    eni.status = 'Attaching';
    eni.instanceId = instanceId;
    eni.deviceIndex = idx;
    this.later(this.timing.attachDelayMs, async () => {
      if (eni.status !== 'Attaching' || !this.enis.has(eni.id)) return;
      await this.runHook('attached', eni);
      eni.status = 'InUse';
      eni.inUseAt = this.now();
    });
  }

  detach(eniId: string, instanceId: string): void {
    const eni = this.eni(eniId);
    this.instance(instanceId);
    if (eni.type === 'Primary') throw ecsError('InvalidOperation.InvalidEniState', '(the primary ENI cannot be detached)');
    if (eni.status === 'Available' || eni.status === 'Detaching') return; // already (being) detached: accepted
    if (eni.instanceId !== instanceId) throw ecsError('InvalidOperation.InvalidEniState', `(${eni.id} is not attached to ${instanceId})`);
    if (eni.status !== 'InUse') throw ecsError('InvalidOperation.InvalidEniState', `(${eni.id} is ${eni.status})`);
    eni.status = 'Detaching';
    this.later(this.timing.detachDelayMs, async () => {
      if (eni.status !== 'Detaching') return;
      await this.runHook('detached', eni);
      eni.status = 'Available';
      delete eni.instanceId;
      delete eni.deviceIndex;
      delete eni.inUseAt;
    });
  }

  delete(eniId: string): void {
    const eni = this.eni(eniId);
    if (eni.type === 'Primary' || eni.status !== 'Available') throw ecsError('InvalidOperation.InvalidEniState', `(${eni.id} is ${eni.status})`);
    const free = (): void => {
      const vsw = this.vswitches.get(eni.vSwitchId);
      for (const e of eni.ips) vsw?.used.delete(e.ip);
      this.enis.delete(eni.id);
    };
    if (this.timing.deleteDelayMs <= 0) {
      free();
      return;
    }
    eni.status = 'Deleting';
    this.later(this.timing.deleteDelayMs, () => {
      free();
      return Promise.resolve();
    });
  }

  assign(eniId: string, count: number, explicit: readonly string[]): string[] {
    const eni = this.eni(eniId);
    if (eni.status !== 'Available' && eni.status !== 'InUse') throw ecsError('InvalidOperation.InvalidEniState', `(${eni.id} is ${eni.status})`);
    const want = eni.ips.length + count + explicit.length;
    const limit = eni.instanceId === undefined ? UNATTACHED_SECONDARY_MAX + 1 : this.instanceType(eni.instanceId).eniPrivateIpAddressQuantity;
    if (want > limit) throw ecsError('QuotaExceeded.PrivateIpAddress', `(${eni.id}: ${String(eni.ips.length)} assigned, limit ${String(limit)})`);
    const ips = this.takeIps(this.vswitch(eni.vSwitchId), count, explicit);
    const now = this.now();
    for (const ip of ips) {
      eni.ips.push({ ip, primary: false, assignedAt: now });
      eni.unassigned.delete(ip);
    }
    if (eni.status === 'InUse') void this.runHook('addressesChanged', eni);
    return ips;
  }

  unassign(eniId: string, ips: readonly string[]): void {
    const eni = this.eni(eniId);
    if (eni.status !== 'Available' && eni.status !== 'InUse') throw ecsError('InvalidOperation.InvalidEniState', `(${eni.id} is ${eni.status})`);
    for (const ip of ips) {
      const e = eni.ips.find((x) => x.ip === ip);
      if (e === undefined) throw ecsError('InvalidIp.IpUnassigned', `(${ip})`);
      if (e.primary) throw ecsError('InvalidIp.Address', `(${ip} is the primary address)`);
    }
    const vsw = this.vswitch(eni.vSwitchId);
    const now = this.now();
    for (const ip of ips) {
      eni.ips.splice(eni.ips.findIndex((x) => x.ip === ip), 1);
      vsw.used.delete(ip);
      eni.unassigned.set(ip, now);
    }
    if (eni.status === 'InUse') void this.runHook('addressesChanged', eni);
  }

  /** What the instance's metadata service shows now for one ENI (undefined: not listed). */
  metadataView(eni: Eni): { readonly ips: string[] } | undefined {
    const now = this.now();
    const lag = this.timing.metadataLagMs;
    if (eni.status !== 'InUse' || eni.inUseAt === undefined || now < eni.inUseAt + lag) return undefined;
    const ips = eni.ips.filter((e) => now >= e.assignedAt + lag).map((e) => e.ip);
    for (const [ip, at] of eni.unassigned) {
      if (now < at + lag) ips.push(ip);
      else eni.unassigned.delete(ip);
    }
    return { ips };
  }

  private async runHook(which: 'attached' | 'detached' | 'addressesChanged', eni: Eni): Promise<void> {
    const hook = this.hook;
    if (hook === undefined) return;
    try {
      await hook[which]?.(eni, this.vswitch(eni.vSwitchId));
    } catch (e) {
      this.hookErrors.push(e);
    }
  }

  private later(ms: number, fn: () => Promise<void>): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn();
    }, ms);
    this.timers.add(t);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
