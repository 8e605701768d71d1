/**
 * The Aliyun cloud client (src/cloud/aliyun) against the ECS emulator through the real SDK: the ENI lifecycle with
 * waits for InUse and the metadata service, ClientToken reuse (a reply lost after CreateNetworkInterface took effect
 * never yields a second ENI), retries with backoff only where Terway retries, NotFound on release paths = success,
 * typed errors with the Aliyun code, rate limits, credentials (eni_conf, file, RAM role STS refresh), and no secret in
 * any log line or error message.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IpAddr } from '../../../src/lib/brand.js';
import { ExhaustedError, NotFoundError, UnavailableError } from '../../../src/lib/errors.js';
import { createLogger } from '../../../src/lib/log.js';
import { DEFAULT_BACKOFFS, backoffDelays, backoffTable, type Backoff, type BackoffKey } from '../../../src/cloud/aliyun/backoff.js';
import type { Clock } from '../../../src/cloud/aliyun/clock.js';
import { createCredentialProvider } from '../../../src/cloud/aliyun/credentials.js';
import { AliyunEcsClient } from '../../../src/cloud/aliyun/ecs-client.js';
import { aliyunErrorOf } from '../../../src/cloud/aliyun/errors.js';
import { createMetadataClient } from '../../../src/cloud/aliyun/metadata.js';
import { RateLimiter } from '../../../src/cloud/aliyun/rate-limit.js';
import { Redactor } from '../../../src/cloud/aliyun/redact.js';
import { createSdkTransport } from '../../../src/cloud/aliyun/sdk.js';
import { EcsEmulator } from '../../ecs-emulator/index.js';
import type { CloudCallObserver } from '../../../src/cloud/aliyun/call-observer.js';
import { registerTerwayMetrics } from '../../../src/daemon/terway-metrics.js';
import { Registry } from 'prom-client';
import { tempDir } from '../../helpers/tmp.js';

const VSW = 'vsw-node0000000000000001';

/** Terway's table, shrunk to milliseconds (same steps and factors). */
const FAST: Record<BackoffKey, Backoff> = Object.fromEntries(
  Object.entries(DEFAULT_BACKOFFS).map(([k, b]) => [k, { ...b, initialDelayMs: b.initialDelayMs / 100, durationMs: b.durationMs / 100, capMs: b.capMs / 100, steps: Math.max(b.steps, 3) }]),
) as Record<BackoffKey, Backoff>;

function setup(emu: EcsEmulator, o: { v2?: boolean; secret?: string; readTimeoutMs?: number; rateLimit?: Record<string, number>; ram?: boolean; onCall?: CloudCallObserver } = {}) {
  const lines: string[] = [];
  const redactor = new Redactor();
  const clock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
  const metadata = createMetadataClient({ endpoint: emu.metadata.url, timeoutMs: 2000, ...(o.onCall === undefined ? {} : { onCall: o.onCall }) });
  const credentials = createCredentialProvider(
    o.ram === true ? { metadata } : { accessKey: emu.credentials.accessKeyId, accessSecret: o.secret ?? emu.credentials.accessKeySecret },
    redactor,
    clock,
  );
  const client = new AliyunEcsClient({
    transport: createSdkTransport({ regionId: emu.state.regionId, endpoint: emu.api.endpoint, protocol: 'http', ...(o.v2 === true ? { signatureAlgorithm: 'v2' } : {}), readTimeoutMs: o.readTimeoutMs ?? 2000 }),
    credentials,
    metadata,
    redactor,
    regionId: emu.state.regionId,
    backoff: FAST,
    attemptTimeoutMs: (o.readTimeoutMs ?? 2000) + 200,
    ...(o.rateLimit === undefined ? {} : { rateLimit: o.rateLimit }),
    clock,
    logger: createLogger({ write: (l) => lines.push(l) }, 'debug'),
    ...(o.onCall === undefined ? {} : { onCall: o.onCall }),
  });
  return { client, lines, metadata };
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

const secondaries = (emu: EcsEmulator) => [...emu.state.enis.values()].filter((e) => e.type !== 'Primary');

describe('Aliyun cloud client against the ECS emulator (real SDK)', () => {
  let emu: EcsEmulator;
  beforeEach(async () => {
    emu = await EcsEmulator.start();
    emu.state.timing.attachDelayMs = 80;
    emu.state.timing.detachDelayMs = 40;
    emu.state.timing.metadataLagMs = 60;
  });
  afterEach(async () => {
    await emu.close();
  });

  for (const v2 of [false, true]) {
    it(`ENI lifecycle (${v2 ? 'v2' : 'ACS3'} signing): create, attach (waits InUse + metadata), assign/unassign (metadata), capacity, detach, delete`, async () => {
      const { client, metadata } = setup(emu, { v2 });
      const eni = await client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 3, tags: { creator: 'terway-hub', pool: 'a' } });
      expect(eni).toMatchObject({ status: 'Available', type: 'Secondary', vSwitchId: VSW, tags: { creator: 'terway-hub', pool: 'a' } });
      expect(eni.privateIps).toHaveLength(3);
      const att = await client.attachEni(eni.id);
      expect(att).toMatchObject({ id: eni.id, status: 'InUse', instanceId: emu.node.id, gateway: '192.168.10.253', vSwitchCidr: '192.168.10.0/24' });
      // returned only once the metadata service lists the ENI with its addresses
      expect((await metadata.eni(eni.mac)).privateIps.slice().sort()).toEqual([...eni.privateIps].sort());
      const ips = await client.assignIps(eni.id, { count: 5 });
      expect(ips).toHaveLength(5);
      expect((await metadata.eni(eni.mac)).privateIps).toEqual(expect.arrayContaining(ips));
      await client.unassignIps(eni.id, ips.slice(0, 2));
      expect((await metadata.eni(eni.mac)).privateIps).not.toContain(ips[0]);
      expect(await client.instanceTypeCapacity()).toEqual({ instanceType: 'ecs.g6.xlarge', adapters: 3, ipv4PerAdapter: 10, ipv6PerAdapter: 1, memberAdapterLimit: 3, maxMemberAdapterLimit: 4, eriQuantity: 0 });
      expect((await client.describeEnis({ instanceId: emu.node.id, type: 'Secondary' })).map((e) => e.id)).toEqual([eni.id]);
      await client.detachEni(eni.id);
      expect(emu.state.enis.get(eni.id)?.status).toBe('Available');
      await client.deleteEni(eni.id);
      expect(emu.state.enis.has(eni.id)).toBe(false);
      expect(emu.state.freeCount(VSW)).toBe(251);
    });
  }

  it('ENIs attached together wait for InUse with one DescribeNetworkInterfaces naming all of them, not one call each', async () => {
    const { client } = setup(emu);
    emu.state.timing.attachDelayMs = 0; // InUse at the first check: one check round
    // ecs.g6.xlarge: 2 secondary ENIs
    const enis = await Promise.all([1, 2].map(() => client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 })));
    const from = emu.api.calls.length;
    const attached = await Promise.all(enis.map((e) => client.attachEni(e.id)));
    expect(attached.map((a) => [a.id, a.status])).toEqual(enis.map((e) => [e.id, 'InUse']));
    const describes = emu.api.calls.slice(from).filter((c) => c.action === 'DescribeNetworkInterfaces');
    expect(describes).toHaveLength(1);
    const named = (c: (typeof describes)[number]): string[] => Object.entries(c.params).filter(([k]) => /^NetworkInterfaceId\.\d+$/u.test(k)).map(([, v]) => v).sort();
    expect(named(describes[0]!)).toEqual(enis.map((e) => e.id).sort());
  });

  it('a reply lost after CreateNetworkInterface took effect: the retry carries the same ClientToken and yields the same ENI, never a second', async () => {
    const { client } = setup(emu, { readTimeoutMs: 400 });
    emu.api.faults.lateReply('CreateNetworkInterface', { mode: 'drop' });
    const a = await client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 2 });
    emu.api.faults.lateReply('CreateNetworkInterface', { mode: 'delay', delayMs: 1500 });
    const b = await client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 4 });
    expect(secondaries(emu).map((e) => e.id).sort()).toEqual([a.id, b.id].sort());
    const creates = emu.api.calls.filter((c) => c.action === 'CreateNetworkInterface');
    expect(creates).toHaveLength(4);
    expect(creates[0]!.params.ClientToken).toBe(creates[1]!.params.ClientToken);
    expect(creates[2]!.params.ClientToken).toBe(creates[3]!.params.ClientToken);
    expect(creates[0]!.params.ClientToken).not.toBe(creates[2]!.params.ClientToken);
    expect(client.keptClientTokens).toBe(0); // dropped on success
  });

  it('after a final failure the token is kept: the next identical request reuses it and gets the ENI the lost call created', async () => {
    const { client } = setup(emu, { readTimeoutMs: 300 });
    const steps = FAST.eni_create.steps;
    emu.api.faults.lateReply('CreateNetworkInterface', { mode: 'drop', times: steps });
    const err = await rejection(client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 }));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(aliyunErrorOf(err)).toMatchObject({ action: 'CreateNetworkInterface', kind: 'network' });
    expect(client.keptClientTokens).toBe(1);
    expect(secondaries(emu)).toHaveLength(1); // it did take effect, once
    const again = await client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 });
    expect(again.id).toBe(secondaries(emu)[0]!.id);
    expect(secondaries(emu)).toHaveLength(1);
    expect(new Set(emu.api.calls.filter((c) => c.action === 'CreateNetworkInterface').map((c) => c.params.ClientToken)).size).toBe(1);
    expect(client.keptClientTokens).toBe(0);
  });

  it('throttling is retried with backoff until it passes; 30 % throttled calls still all succeed', async () => {
    const { client, lines } = setup(emu);
    emu.api.faults.throttle('AssignPrivateIpAddresses', 0.3);
    emu.api.faults.throttle('DescribeNetworkInterfaces', 0.3);
    const eni = await client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 });
    for (let i = 0; i < 6; i++) await client.assignIps(eni.id, { count: 1 });
    expect(emu.state.enis.get(eni.id)?.ips).toHaveLength(7);
    const n = emu.api.count('AssignPrivateIpAddresses');
    expect(n.ok).toBe(6);
    expect(n.throttled).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('"code":"Throttling"') && l.includes('retrying'))).toBe(true);
  });

  it('only throttling, internal and network errors are retried: IpNotEnough and quota fail at once, typed, with the Aliyun code', async () => {
    const { client } = setup(emu);
    emu.api.faults.failNext('CreateNetworkInterface', 'InternalError', 2);
    await client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 });
    expect(emu.api.count('CreateNetworkInterface')).toMatchObject({ received: 3, ok: 1 });
    emu.state.vswitch(VSW).ipNotEnough = true;
    const e1 = await rejection(client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 }));
    expect(e1).toBeInstanceOf(ExhaustedError);
    expect(aliyunErrorOf(e1)).toMatchObject({ aliyunCode: 'InvalidVSwitchId.IpNotEnough', kind: 'vswitch-ip-exhausted', httpStatus: 403 });
    expect(emu.api.count('CreateNetworkInterface').received).toBe(4); // one call, no retry
    emu.state.vswitch(VSW).ipNotEnough = false;
    const eni = await client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 10 });
    await client.attachEni(eni.id);
    const e2 = await rejection(client.assignIps(eni.id, { count: 1 }));
    expect(aliyunErrorOf(e2)).toMatchObject({ aliyunCode: 'QuotaExceeded.PrivateIpAddress', kind: 'ip-quota' });
    expect(e2.message).toMatch(/^ECS AssignPrivateIpAddresses: QuotaExceeded\.PrivateIpAddress \(HTTP 403, request [0-9A-F-]+\)/u);
    await expect(client.assignIps(eni.id, { count: 11 })).rejects.toThrow(/1\.\.10 addresses per call/u);
  });

  it('every OpenAPI attempt and metadata request is timed (failed ones too): Terway\'s aliyun_openapi_latency and aliyun_metadata_latency in ms', async () => {
    const registry = new Registry();
    const terway = registerTerwayMetrics(registry, () => undefined);
    const seen: Parameters<CloudCallObserver>[0][] = [];
    const { client, metadata } = setup(emu, { onCall: (c) => { seen.push(c); terway.observeCloudCall(c); } });
    emu.api.faults.failNext('CreateNetworkInterface', 'InternalError', 2);
    await client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 });
    const creates = seen.filter((c) => c.service === 'openapi' && c.api === 'CreateNetworkInterface');
    expect(creates.map((c) => c.error)).toEqual([true, true, false]);
    expect(creates.every((c) => c.ms > 0 && c.ms < 2000)).toBe(true);
    await metadata.regionId();
    expect(seen.filter((c) => c.service === 'metadata').map((c) => c.api)).toContain('/latest/meta-data/region-id');
    const text = await registry.metrics();
    expect(text).toMatch(/^aliyun_openapi_latency_count\{api="CreateNetworkInterface",error="true"\} 2$/mu);
    expect(text).toMatch(/^aliyun_openapi_latency_count\{api="CreateNetworkInterface",error="false"\} 1$/mu);
    const sum = Number(/^aliyun_openapi_latency_sum\{api="CreateNetworkInterface",error="false"\} (\S+)$/mu.exec(text)?.[1]);
    expect(sum).toBeCloseTo(creates[2]?.ms ?? -1, 6); // milliseconds, as Terway's
    expect(text).toMatch(/^aliyun_metadata_latency_count\{url="\/latest\/meta-data\/region-id",error="false"\} 1$/mu);
    // an observer that throws never fails the call it observes
    const { client: c2 } = setup(emu, { onCall: () => { throw new Error('boom'); } });
    await expect(c2.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 })).resolves.toMatchObject({ vSwitchId: VSW });
  });

  it('release paths: an ENI already gone, an address already unassigned count as success', async () => {
    const { client } = setup(emu);
    await client.deleteEni('eni-doesnotexist000000');
    await client.detachEni('eni-doesnotexist000000');
    await client.unassignIps('eni-doesnotexist000000' , ['192.168.10.77' as IpAddr]);
    const eni = await client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 });
    const [a, b] = await client.assignIps(eni.id, { count: 2 });
    await client.unassignIps(eni.id, [a!]);
    // a batch with one address already gone still unassigns the other
    await client.unassignIps(eni.id, [a!, b!]);
    expect(emu.state.enis.get(eni.id)?.ips.map((x) => x.ip)).toEqual([eni.primaryIp]);
    await client.deleteEni(eni.id);
    await client.deleteEni(eni.id);
    await expect(client.instanceTypeCapacity('ecs.nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('rate limits per action (calls per minute, burst = limit) from rate_limit', async () => {
    const slept: number[] = [];
    let t = 0;
    const clock: Clock = { now: () => t, sleep: (ms) => { slept.push(ms); t += ms; return Promise.resolve(); } };
    const rl = new RateLimiter({ CreateNetworkInterface: 2 }, clock);
    for (let i = 0; i < 4; i++) await rl.take('CreateNetworkInterface');
    expect(slept).toEqual([30_000, 30_000]);
    for (let i = 0; i < 400; i++) await rl.take('DetachNetworkInterface'); // Terway default 400/min: the burst
    expect(slept).toHaveLength(2);
    expect(rl.perMinute('DescribeNetworkInterfaces')).toBe(800);
    expect(rl.perMinute('SomethingElse')).toBe(500);
    // through the client: 120/min = 2/s after a burst of 120; 3 more calls need ≥ 1.5 s less what refilled meanwhile
    const { client } = setup(emu, { rateLimit: { DescribeNetworkInterfaces: 120 } });
    const t0 = Date.now();
    for (let i = 0; i < 120; i++) await client.describeEnis({ ids: ['eni-x'] });
    const burstMs = Date.now() - t0;
    const start = Date.now();
    for (let i = 0; i < 3; i++) await client.describeEnis({ ids: ['eni-x'] });
    expect(Date.now() - start).toBeGreaterThanOrEqual(1500 - burstMs - 50);
    expect(Date.now() - start).toBeGreaterThanOrEqual(400);
  });

  it('backoff table: Terway defaults, backoff_override in Terway JSON (ns or Go durations), delays per wait.Backoff', () => {
    expect(backoffDelays(DEFAULT_BACKOFFS.eni_create, () => 0)).toEqual([10_000]);
    expect(backoffDelays(DEFAULT_BACKOFFS.default, () => 0)).toEqual([2000, 3000, 4500, 6750, 10125]);
    expect(backoffDelays(DEFAULT_BACKOFFS.eni_delete_confirm, () => 0)).toEqual([2000, 3000, 4000]);
    const t = backoffTable({ eni_create: { Duration: 1_000_000_000, Steps: 3 }, wait_eni_status: { Duration: '500ms' } });
    expect(t.eni_create).toMatchObject({ durationMs: 1000, steps: 3, factor: 2 });
    expect(t.wait_eni_status).toMatchObject({ durationMs: 500, initialDelayMs: 3000 });
    expect(() => backoffTable({ eni_ops: { Steps: 'x' } })).toThrow(/eni_conf\.backoff_override\.eni_ops\.Steps/u);
  });

  it('RAM role: STS credentials from the metadata service (token access), refreshed before they expire', async () => {
    emu.grantRamRole('KubernetesWorkerRole', 2000); // expires after 2 s: refreshed at a tenth of the lifetime before
    emu.metadata.requireToken = true;
    const { client } = setup(emu, { ram: true });
    await client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 });
    await new Promise((r) => setTimeout(r, 2100));
    await client.describeEnis({});
    const keys = new Set(emu.api.calls.map((c) => c.keyId));
    expect(keys.size).toBe(2);
    expect([...keys].every((k) => k.startsWith('STS.'))).toBe(true);
    expect(emu.metadata.hits.filter((h) => h === '/latest/api/token').length).toBe(1);
  });

  it('a mounted credentials file is read (and re-read when it changes)', async () => {
    const dir = tempDir('ae-cred-');
    const path = join(dir, 'creds.json');
    writeFileSync(path, JSON.stringify({ AccessKeyId: emu.credentials.accessKeyId, AccessKeySecret: emu.credentials.accessKeySecret }));
    const p = createCredentialProvider({ credentialPath: path }, new Redactor(), { now: () => Date.now(), sleep: () => Promise.resolve() });
    expect((await p.get()).accessKeyId).toBe(emu.credentials.accessKeyId);
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(path, JSON.stringify({ access_key_id: 'LTAIother', access_key_secret: 'other-secret' }));
    expect((await p.get()).accessKeyId).toBe('LTAIother');
    writeFileSync(path, '{"AccessKeySecret": "half-secret-value"');
    await expect(p.get()).rejects.toThrow(/is not a JSON credentials file$/u);
  });

  it('secrets never reach a log line or an error message (static keys, v2 signature failures quoting the string to sign, STS)', async () => {
    const collected: string[] = [];
    for (const v2 of [false, true]) {
      const bad = setup(emu, { v2, secret: `${emu.credentials.accessKeySecret}x` });
      const e = await rejection(bad.client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 }));
      expect(aliyunErrorOf(e)).toMatchObject({ aliyunCode: 'SignatureDoesNotMatch', kind: 'auth' });
      collected.push(e.message, String(e), JSON.stringify(e), JSON.stringify((e as { cause?: unknown }).cause ?? null), ...bad.lines);
    }
    // the real gateway quotes the string to sign (with the AccessKeyId): it must come out redacted
    expect(collected.some((l) => l.includes('server string to sign is:') && l.includes('***'))).toBe(true);
    emu.grantRamRole('Role', 3600_000);
    const sts = setup(emu, { ram: true });
    emu.api.faults.failNext('CreateNetworkInterface', 'Forbidden.RAM');
    collected.push((await rejection(sts.client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 }))).message, ...sts.lines);
    await sts.client.createEni({ vSwitchId: VSW, securityGroupIds: ['sg-1'], ipCount: 1 });
    const stsKey = [...emu.api.calls].reverse().find((c) => c.keyId.startsWith('STS.'))!.keyId;
    const secrets = [emu.credentials.accessKeyId, emu.credentials.accessKeySecret, `${emu.credentials.accessKeySecret}x`, stsKey, ...emu.issuedSts.flatMap((c) => [c.accessKeyId, c.accessKeySecret, c.securityToken])];
    expect(collected.length).toBeGreaterThan(6);
    for (const line of collected) for (const s of secrets) expect(line).not.toContain(s);
  });
});
