/**
 * The Aliyun provider's ECS client (AliyunEniCloud) on the real SDK: per-action token buckets, ClientTokens kept
 * across retries and for the next identical request, retries with Terway's backoff only on throttling, internal,
 * network (and concurrent-operation) errors, NotFound / already-unassigned on release paths as success, waits for
 * asynchronous results (ENI InUse; the metadata service listing the MAC and addresses), and the one mapping of ECS
 * failures onto typed errors (errors.ts). Secrets never leave: errors and logs are redacted, SDK errors are never
 * attached as `cause` (they hold the signed request).
 */
import { onceUntilFailure } from '../../lib/memo.js';
import type { IpAddr } from '../../lib/brand.js';
import { InvalidInputError, NotFoundError, UnavailableError } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { backoffDelays, DEFAULT_BACKOFFS, type Backoff, type BackoffKey } from './backoff.js';
import { ClientTokens } from './client-token.js';
import { DescribeBatcher } from './describe-batch.js';
import { realClock, type Clock } from './clock.js';
import type { CredentialProvider } from './credentials.js';
import { isRetryable, readSdkError, toHubError, type AliyunErrorInfo, type AliyunErrorKind } from './errors.js';
import { arr, obj, parseAssigned, parseCapacity, parseEni, str } from './parse.js';
import { RateLimiter } from './rate-limit.js';
import type { Redactor } from './redact.js';
import type { EcsAction, EcsTransport, PlainObject } from './sdk.js';
import { observeCloudCall, type CloudCallObserver } from './call-observer.js';
import { MAX_IPS_PER_CALL, type AliyunEniCloud, type AttachedEni, type CreateEniRequest, type DescribeEnisFilter, type EniInfo, type InstanceCapacity, type MetadataClient } from './types.js';

export interface AliyunClientOptions {
  readonly transport: EcsTransport;
  readonly credentials: CredentialProvider;
  readonly metadata: MetadataClient;
  readonly redactor: Redactor;
  readonly regionId: string;
  /** This node's instance (default: from the metadata service). */
  readonly instanceId?: string;
  /** `eni_conf.rate_limit` (calls per minute per action). */
  readonly rateLimit?: Readonly<Record<string, number>>;
  /** Terway's table with `eni_conf.backoff_override` applied (backoff.ts `backoffTable`). */
  readonly backoff?: Readonly<Record<BackoffKey, Backoff>>;
  /**
   * Deadline of one HTTP attempt (default 20 s). The SDK's own read timeout does not fire on a reused keep-alive
   * socket, so the client enforces this itself: a late answer counts as a network error (the retry's ClientToken
   * makes the abandoned call harmless).
   */
  readonly attemptTimeoutMs?: number;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly logger?: Logger;
  /** The InUse checks of ENIs attached together within this window go out as one describe (default 100 ms). */
  readonly describeBatchMs?: number;
  /** Told after every attempt (the API's wall time, failed or not): `aliyun_openapi_latency`. */
  readonly onCall?: CloudCallObserver;
}

class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${String(ms)} ms`);
  }
}

/** Races a transport call against the attempt deadline (real time: the SDK's sockets run on real time). */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    t = setTimeout(() => {
      reject(new AttemptTimeout(ms));
    }, ms);
  });
  p.catch(() => undefined); // an abandoned attempt's late failure is nobody's business
  return Promise.race([p, deadline]).finally(() => {
    clearTimeout(t);
  });
}

interface InvokeOptions {
  readonly backoff: BackoffKey;
  /** Carry a ClientToken (ECS de-duplicates on it). */
  readonly idempotent?: boolean;
  /** The caller's token (journalled by the caller): used as is, never kept in the LRU. */
  readonly clientToken?: string | undefined;
  /** Error kinds that mean "done" here (release paths). */
  readonly okKinds?: readonly AliyunErrorKind[];
  /** Error kinds retried here besides the usual ones. */
  readonly retryKinds?: readonly AliyunErrorKind[];
  readonly signal?: AbortSignal | undefined;
}

type Invoked = { readonly ok: true; readonly body: PlainObject } | { readonly ok: false; readonly tolerated: AliyunErrorInfo };

export const ENI_DESCRIPTION = 'interface create by terway-hub';

export class AliyunEcsClient implements AliyunEniCloud {
  private readonly limiter: RateLimiter;
  private readonly tokens = new ClientTokens();
  private readonly backoffs: Readonly<Record<BackoffKey, Backoff>>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private readonly capacities = new Map<string, Promise<InstanceCapacity>>();
  /**
   * ENIs seen InUse on this instance (id → MAC): an assign/unassign waits for the metadata service without asking
   * DescribeNetworkInterfaces again. Dropped on detach/delete, and when the metadata service no longer lists the MAC.
   */
  private readonly attachedHere = new Map<string, AttachedEni['mac']>();
  private readonly instanceId: (signal?: AbortSignal) => Promise<string>;
  private readonly inUseChecks: DescribeBatcher;

  constructor(private readonly o: AliyunClientOptions) {
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
    this.log = o.logger ?? silentLogger;
    this.backoffs = o.backoff ?? DEFAULT_BACKOFFS;
    this.limiter = new RateLimiter(o.rateLimit ?? {}, this.clock, (action, ms) => {
      this.log.warn('ECS client-side rate limit: waiting', { action, waitMs: Math.round(ms), perMinute: this.limiter.perMinute(action) });
    });
    const known = o.instanceId;
    this.instanceId = known !== undefined ? () => Promise.resolve(known) : onceUntilFailure((signal?: AbortSignal) => o.metadata.instanceId(signal));
    this.inUseChecks = new DescribeBatcher(o.describeBatchMs ?? 100, this.clock, (ids) => this.describeEnis({ ids }));
  }

  /** How many ClientTokens are kept for requests whose last attempt failed (Terway's LRU). */
  get keptClientTokens(): number {
    return this.tokens.kept;
  }

  /** One logical ECS request: rate limit, attempts with backoff, ClientToken, error mapping. */
  private async invoke(action: EcsAction, request: PlainObject, opt: InvokeOptions): Promise<Invoked> {
    const key = opt.idempotent === true && opt.clientToken === undefined ? ClientTokens.keyOf(action, request) : undefined;
    const token = opt.clientToken ?? (key === undefined ? undefined : this.tokens.take(key));
    const req = token === undefined ? request : { ...request, clientToken: token };
    const delays = backoffDelays(this.backoffs[opt.backoff], this.random);
    let last: { info: AliyunErrorInfo; cloudMessage: string } | undefined;
    let attempts = 0;
    try {
      for (let i = 0; i <= delays.length; i++) {
        if (i > 0) await this.clock.sleep(delays[i - 1] ?? 0, opt.signal);
        if (opt.signal?.aborted === true) throw opt.signal.reason as Error;
        await this.limiter.take(action, opt.signal);
        const creds = await this.o.credentials.get(opt.signal);
        attempts++;
        const started = performance.now();
        try {
          const body = await withDeadline(this.o.transport(action, req, creds), this.o.attemptTimeoutMs ?? 20_000);
          observeCloudCall(this.o.onCall, 'openapi', action, false, started);
          // success: the token is spent (not put back)
          return { ok: true, body };
        } catch (e) {
          observeCloudCall(this.o.onCall, 'openapi', action, true, started);
          last = readSdkError(action, e);
          if (opt.okKinds?.includes(last.info.kind) === true) return { ok: false, tolerated: last.info };
          const retry = isRetryable(last.info.kind) || opt.retryKinds?.includes(last.info.kind) === true;
          this.log.warn(`ECS ${action} failed${retry && i < delays.length ? ', retrying' : ''}`, {
            action,
            code: last.info.aliyunCode,
            ...(last.info.requestId === undefined ? {} : { requestId: last.info.requestId }),
            attempt: attempts,
            message: this.o.redactor.redact(last.cloudMessage).slice(0, 300),
          });
          if (!retry) break;
        }
      }
    } catch (e) {
      // aborted (or the credentials failed): keep the token, the request may have taken effect
      if (key !== undefined && token !== undefined) this.tokens.putBack(key, token);
      throw e;
    }
    if (last === undefined) throw new UnavailableError(`ECS ${action}: no attempt made`);
    if (key !== undefined && token !== undefined && last.info.kind !== 'idempotent-mismatch') this.tokens.putBack(key, token);
    throw toHubError(last.info, last.cloudMessage, this.o.redactor, attempts);
  }

  /** Polls `probe` with a backoff until it answers a value; the last `undefined` becomes an UnavailableError saying `what`. */
  private async poll<T>(key: BackoffKey, what: string, probe: () => Promise<T | undefined>, signal?: AbortSignal): Promise<T> {
    const bo = this.backoffs[key];
    if (bo.initialDelayMs > 0) await this.clock.sleep(bo.initialDelayMs, signal);
    const delays = backoffDelays(bo, this.random);
    for (let i = 0; i <= delays.length; i++) {
      if (i > 0) await this.clock.sleep(delays[i - 1] ?? 0, signal);
      const v = await probe();
      if (v !== undefined) return v;
    }
    throw new UnavailableError(`timed out waiting for ${what} (${String(delays.length + 1)} checks, backoff ${key})`);
  }

  async createEni(r: CreateEniRequest, signal?: AbortSignal): Promise<EniInfo> {
    if (!Number.isInteger(r.ipCount) || r.ipCount < 1 || r.ipCount > MAX_IPS_PER_CALL) throw new InvalidInputError('ipCount', `must be 1..${String(MAX_IPS_PER_CALL)} (the ENI primary address included); got ${String(r.ipCount)}`);
    if (r.securityGroupIds.length < 1 || r.securityGroupIds.length > 10) throw new InvalidInputError('securityGroupIds', `1..10 security groups; got ${String(r.securityGroupIds.length)}`);
    const tags = r.tags ?? {};
    const request: PlainObject = {
      regionId: this.o.regionId,
      vSwitchId: r.vSwitchId,
      securityGroupIds: [...r.securityGroupIds],
      instanceType: r.trunk === true ? 'Trunk' : 'Secondary',
      ...(r.ipCount > 1 ? { secondaryPrivateIpAddressCount: r.ipCount - 1 } : {}),
      tag: Object.entries(tags).map(([key, value]) => ({ key, value })),
      description: r.description ?? ENI_DESCRIPTION,
      ...(r.resourceGroupId === undefined ? {} : { resourceGroupId: r.resourceGroupId }),
    };
    const res = await this.invoke('CreateNetworkInterface', request, { backoff: 'eni_create', idempotent: true, clientToken: r.clientToken, signal });
    if (!res.ok) throw new UnavailableError('ECS CreateNetworkInterface: no answer');
    const eni = parseEni(res.body, 'CreateNetworkInterface');
    this.log.info('ENI created', { eni: eni.id, mac: eni.mac, vSwitch: eni.vSwitchId, ips: eni.privateIps.length });
    return eni;
  }

  private async describeOne(id: string, signal?: AbortSignal): Promise<EniInfo | undefined> {
    return (await this.describeEnis({ ids: [id] }, signal))[0];
  }

  async attachEni(eniId: string, signal?: AbortSignal): Promise<AttachedEni> {
    const instanceId = await this.instanceId(signal);
    const res = await this.invoke('AttachNetworkInterface', { regionId: this.o.regionId, instanceId, networkInterfaceId: eniId }, { backoff: 'eni_ops', okKinds: ['invalid-state'], signal });
    if (!res.ok) {
      // a retried attach whose first call took effect: fine if it is (being) attached here
      const now = await this.describeOne(eniId, signal);
      if (now?.instanceId !== instanceId || (now.status !== 'Attaching' && now.status !== 'InUse')) {
        throw toHubError(res.tolerated, `the ENI is ${now === undefined ? 'gone' : `${now.status}${now.instanceId === undefined ? '' : ` on ${now.instanceId}`}`}`, this.o.redactor, 1);
      }
    }
    const eni = await this.poll('wait_eni_status', `ENI ${eniId} to be InUse`, async () => {
      const e = await this.inUseChecks.get(eniId, signal);
      if (e === undefined) throw new NotFoundError(`ENI ${eniId} vanished while attaching`);
      if (e.status === 'Available') throw new UnavailableError(`ENI ${eniId} attach failed (back to Available)`);
      return e.status === 'InUse' ? e : undefined;
    }, signal);
    const md = await this.poll('meta_assign_private_ip', `the metadata service to list ENI ${eniId} (${eni.mac}) with its addresses`, async () => {
      const macs = await this.o.metadata.macs(signal);
      if (!macs.includes(eni.mac)) return undefined;
      const m = await this.o.metadata.eni(eni.mac, signal);
      return eni.privateIps.every((ip) => m.privateIps.includes(ip)) ? m : undefined;
    }, signal);
    this.attachedHere.set(eniId, eni.mac);
    this.log.info('ENI attached', { eni: eniId, mac: eni.mac, instance: instanceId });
    return { ...eni, gateway: md.gateway, vSwitchCidr: md.vSwitchCidr };
  }

  async detachEni(eniId: string, signal?: AbortSignal): Promise<void> {
    this.attachedHere.delete(eniId);
    const instanceId = await this.instanceId(signal);
    const res = await this.invoke('DetachNetworkInterface', { regionId: this.o.regionId, instanceId, networkInterfaceId: eniId }, { backoff: 'eni_release', okKinds: ['not-found'], retryKinds: ['invalid-state'], signal });
    if (!res.ok) return; // gone: nothing to detach
    await this.poll('wait_eni_status', `ENI ${eniId} to be detached`, async () => {
      const e = await this.describeOne(eniId, signal);
      return e === undefined || e.status === 'Available' || (e.instanceId !== undefined && e.instanceId !== instanceId) ? true : undefined;
    }, signal);
    this.log.info('ENI detached', { eni: eniId, instance: instanceId });
  }

  async deleteEni(eniId: string, signal?: AbortSignal): Promise<void> {
    this.attachedHere.delete(eniId);
    // InvalidEniState while a detach is finishing: retried with the release backoff
    const res = await this.invoke('DeleteNetworkInterface', { regionId: this.o.regionId, networkInterfaceId: eniId }, { backoff: 'eni_release', okKinds: ['not-found'], retryKinds: ['invalid-state'], signal });
    if (res.ok) {
      await this.poll('eni_delete_confirm', `ENI ${eniId} to be deleted`, async () => ((await this.describeOne(eniId, signal)) === undefined ? true : undefined), signal);
    }
    this.log.info('ENI deleted', { eni: eniId });
  }

  async describeEnis(f: DescribeEnisFilter, signal?: AbortSignal): Promise<EniInfo[]> {
    const base: PlainObject = {
      regionId: this.o.regionId,
      ...(f.ids === undefined ? {} : { networkInterfaceId: [...f.ids] }),
      ...(f.instanceId === undefined ? {} : { instanceId: f.instanceId }),
      ...(f.vSwitchId === undefined ? {} : { vSwitchId: f.vSwitchId }),
      ...(f.type === undefined ? {} : { type: f.type }),
      ...(f.status === undefined ? {} : { status: f.status }),
      ...(f.tags === undefined ? {} : { tag: Object.entries(f.tags).map(([key, value]) => ({ key, value })) }),
      maxResults: 100,
    };
    if (f.ids?.length === 0) return [];
    const out: EniInfo[] = [];
    let next = '';
    for (let page = 0; page < 1000; page++) {
      const res = await this.invoke('DescribeNetworkInterfaces', { ...base, ...(next === '' ? {} : { nextToken: next }) }, { backoff: 'default', signal });
      if (!res.ok) break;
      out.push(...arr(obj(res.body.networkInterfaceSets).networkInterfaceSet).map((e) => parseEni(e, 'DescribeNetworkInterfaces')));
      next = str(res.body.nextToken);
      if (next === '') break;
    }
    return out;
  }

  async assignIps(eniId: string, want: ({ readonly count: number } | { readonly ips: readonly IpAddr[] }) & { readonly clientToken?: string }, signal?: AbortSignal): Promise<IpAddr[]> {
    const n = 'count' in want ? want.count : want.ips.length;
    if (!Number.isInteger(n) || n < 1 || n > MAX_IPS_PER_CALL) throw new InvalidInputError('assignIps', `1..${String(MAX_IPS_PER_CALL)} addresses per call; got ${String(n)}`);
    const request: PlainObject = { regionId: this.o.regionId, networkInterfaceId: eniId, ...('count' in want ? { secondaryPrivateIpAddressCount: want.count } : { privateIpAddress: [...want.ips] }) };
    const res = await this.invoke('AssignPrivateIpAddresses', request, { backoff: 'eni_ip_ops', idempotent: true, clientToken: want.clientToken, signal });
    if (!res.ok) throw new UnavailableError('ECS AssignPrivateIpAddresses: no answer');
    const ips = parseAssigned(res.body, 'AssignPrivateIpAddresses');
    await this.waitMetadata(eniId, (listed) => ips.every((ip) => listed.includes(ip)), 'meta_assign_private_ip', `to list ${ips.join(', ')}`, signal);
    return ips;
  }

  async unassignIps(eniId: string, ips: readonly IpAddr[], signal?: AbortSignal): Promise<void> {
    if (ips.length === 0) return;
    if (ips.length > MAX_IPS_PER_CALL) throw new InvalidInputError('unassignIps', `at most ${String(MAX_IPS_PER_CALL)} addresses per call; got ${String(ips.length)}`);
    let todo = [...ips];
    for (let round = 0; round < 2 && todo.length > 0; round++) {
      const res = await this.invoke('UnassignPrivateIpAddresses', { regionId: this.o.regionId, networkInterfaceId: eniId, privateIpAddress: todo }, { backoff: 'eni_ip_ops', okKinds: ['not-found', 'ip-unassigned'], signal });
      if (res.ok || res.tolerated.kind === 'not-found') break;
      // some address was no longer assigned: unassign the others (a batch is all-or-nothing)
      const now = await this.describeOne(eniId, signal);
      todo = now === undefined ? [] : todo.filter((ip) => now.privateIps.includes(ip));
    }
    await this.waitMetadata(eniId, (listed) => ips.every((ip) => !listed.includes(ip)), 'meta_unassign_private_ip', `to drop ${ips.join(', ')}`, signal);
  }

  /** When the ENI is on this instance, waits until the metadata service's address list satisfies `ok`. */
  private async waitMetadata(eniId: string, ok: (listed: readonly IpAddr[]) => boolean, key: BackoffKey, what: string, signal?: AbortSignal): Promise<void> {
    const instanceId = await this.instanceId(signal);
    let mac = this.attachedHere.get(eniId);
    if (mac !== undefined && !(await this.o.metadata.macs(signal)).includes(mac)) {
      this.attachedHere.delete(eniId); // not (or no longer) on this instance as far as the node sees: ask ECS
      mac = undefined;
    }
    if (mac === undefined) {
      const eni = await this.describeOne(eniId, signal);
      if (eni?.instanceId !== instanceId || eni.status !== 'InUse') return;
      mac = eni.mac;
      this.attachedHere.set(eniId, mac);
    }
    const known = mac;
    await this.poll(key, `the metadata service of ENI ${eniId} ${what}`, async () => {
      const macs = await this.o.metadata.macs(signal);
      if (!macs.includes(known)) return undefined;
      return ok((await this.o.metadata.eni(known, signal)).privateIps) ? true : undefined;
    }, signal);
  }

  instanceTypeCapacity(instanceType?: string, signal?: AbortSignal): Promise<InstanceCapacity> {
    const run = async (): Promise<InstanceCapacity> => {
      const type = instanceType ?? (await this.o.metadata.instanceType(signal));
      let p = this.capacities.get(type);
      if (p === undefined) {
        p = this.describeType(type, signal);
        this.capacities.set(type, p);
        p.catch(() => this.capacities.delete(type));
      }
      return p;
    };
    return run();
  }

  private async describeType(type: string, signal?: AbortSignal): Promise<InstanceCapacity> {
    const res = await this.invoke('DescribeInstanceTypes', { instanceTypes: [type] }, { backoff: 'default', signal });
    const list = res.ok ? arr(obj(res.body.instanceTypes).instanceType) : [];
    const found = list.map(parseCapacity).find((c) => c.instanceType === type);
    if (found === undefined) throw new NotFoundError(`ECS DescribeInstanceTypes: instance type ${type} not found`);
    if (found.adapters < 1 || found.ipv4PerAdapter < 1) throw new UnavailableError(`ECS DescribeInstanceTypes: ${type} reports no ENI quota (EniQuantity ${String(found.adapters)}, EniPrivateIpAddressQuantity ${String(found.ipv4PerAdapter)})`);
    return found;
  }
}
