/**
 * The warm pool over the Aliyun provider's cloud (src/cloud/aliyun/factory.ts → the ECS client → the real SDK) against
 * the ECS emulator with faults: throttling on a share of calls, replies lost after the action took effect, slow
 * attach, a vSwitch out of addresses. Invariants: no IP ever held by two pods, no ENI created twice for one request
 * (ClientToken), nothing leaked once the faults stop (the cloud and the pool agree, every pod released).
 */
import type { IpAddr } from '../../../src/lib/brand.js';
import { silentLogger } from '../../../src/lib/log.js';
import { DEFAULT_BACKOFFS, type Backoff, type BackoffKey } from '../../../src/cloud/aliyun/backoff.js';
import type { Clock } from '../../../src/cloud/aliyun/clock.js';
import { createCredentialProvider } from '../../../src/cloud/aliyun/credentials.js';
import { AliyunEcsClient } from '../../../src/cloud/aliyun/ecs-client.js';
import { createAliyunFactory, maxEnisOf } from '../../../src/cloud/aliyun/factory.js';
import { createMetadataClient } from '../../../src/cloud/aliyun/metadata.js';
import { Redactor } from '../../../src/cloud/aliyun/redact.js';
import { createSdkTransport } from '../../../src/cloud/aliyun/sdk.js';
import { parseEniConf } from '../../../src/config/eni-conf.js';
import { Pool, type PoolOptions } from '../../../src/pool/pool.js';
import { EcsEmulator } from '../../ecs-emulator/index.js';
import { MemoryJournal } from '../pool/fake-factory.js';

const FAST: Record<BackoffKey, Backoff> = Object.fromEntries(
  Object.entries(DEFAULT_BACKOFFS).map(([k, b]) => [k, { ...b, initialDelayMs: b.initialDelayMs / 100, durationMs: b.durationMs / 100, capMs: b.capMs / 100, steps: Math.max(b.steps, 4) }]),
) as Record<BackoffKey, Backoff>;

async function setup(instanceType = 'ecs.g6.xlarge', options: Partial<PoolOptions> = {}) {
  const emu = await EcsEmulator.start({ instanceType });
  emu.state.timing.attachDelayMs = 200;
  const clock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
  const redactor = new Redactor();
  const metadata = createMetadataClient({ endpoint: emu.metadata.url, timeoutMs: 2000 });
  const credentials = createCredentialProvider({ accessKey: emu.credentials.accessKeyId, accessSecret: emu.credentials.accessKeySecret }, redactor, clock);
  const cloud = new AliyunEcsClient({
    transport: createSdkTransport({ regionId: emu.state.regionId, endpoint: emu.api.endpoint, protocol: 'http', readTimeoutMs: 1500 }),
    credentials,
    metadata,
    redactor,
    regionId: emu.state.regionId,
    backoff: FAST,
    attemptTimeoutMs: 1500,
    clock,
  });
  const zone = await metadata.zoneId();
  const eniConf = parseEniConf({ version: '1', vswitches: { [zone]: ['vsw-node0000000000000001', 'vsw-node0000000000000002'] }, security_groups: ['sg-emulated0001'] }).value;
  const factory = createAliyunFactory({ cloud, metadata, eniConf });
  const journal = new MemoryJournal();
  const withTags = (eniTags: Record<string, string>) => createAliyunFactory({ cloud, metadata, eniConf: parseEniConf({ version: '1', vswitches: { [zone]: ['vsw-node0000000000000001'] }, security_groups: ['sg-emulated0001'], eni_tags: eniTags }).value });
  let n = 0;
  const pool = new Pool({ factory, journal, log: silentLogger, newToken: () => `hub-${String(process.pid)}-${String(++n)}`, options: { minIdle: 2, maxIdle: 6, coalesceMs: 20, retryMs: 300, fatalRetryMs: 1000, syncIntervalMs: 500, ...options } });
  return { emu, pool, journal, factory, withTags };
}

const ours = (emu: EcsEmulator) => [...emu.state.enis.values()].filter((e) => e.tags.creator === 'terway-hub');

describe('the warm pool on Aliyun (emulated ECS, real SDK)', () => {
  it('capacity from the instance type (Terway §7.1)', () => {
    expect(maxEnisOf(3, { eniCapRatio: 1, eniCapShift: 0, maxEni: -1 })).toBe(2);
    expect(maxEnisOf(8, { eniCapRatio: 0.5, eniCapShift: 1, maxEni: 2 })).toBe(2);
  });

  it('the zone is asked once: the vSwitches the pool lists at every plan cost no metadata request each', async () => {
    const { emu, factory } = await setup();
    try {
      const zoneHits = (): number => emu.metadata.hits.filter((h) => h.endsWith('/zone-id')).length;
      const before = zoneHits();
      const first = await factory.vSwitches();
      expect(first.map((v) => v.id)).toEqual(['vsw-node0000000000000001', 'vsw-node0000000000000002']);
      for (let i = 0; i < 5; i++) expect(await factory.vSwitches()).toEqual(first);
      expect(zoneHits() - before).toBe(1);
    } finally {
      await emu.close();
    }
  });

  it('churn under faults: no IP held twice, no ENI created twice, nothing leaked once the faults stop', async () => {
    const { emu, pool } = await setup();
    try {
      await pool.start(new Set());
      // faults: a third of the calls throttled; the first create's and two assigns' replies lost after they took effect;
      // the first vSwitch out of addresses
      emu.api.faults.throttle('AssignPrivateIpAddresses', 0.33);
      emu.api.faults.throttle('DescribeNetworkInterfaces', 0.33);
      emu.api.faults.lateReply('CreateNetworkInterface', { mode: 'drop', times: 1 });
      emu.api.faults.lateReply('AssignPrivateIpAddresses', { mode: 'drop', times: 2 });
      const vsw1 = emu.state.vswitches.get('vsw-node0000000000000001');
      if (vsw1 !== undefined) vsw1.ipNotEnough = true;

      const holders = new Map<IpAddr, string>();
      let doubles = 0;
      let failures = 0;
      const cycle = async (pod: string): Promise<void> => {
        try {
          const got = await pool.acquire({ label: pod });
          if (holders.has(got.ip)) doubles++;
          holders.set(got.ip, pod);
          await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
          holders.delete(got.ip);
          pool.release(got.ip);
        } catch {
          failures++;
        }
      };
      for (let wave = 0; wave < 4; wave++) await Promise.all(Array.from({ length: 12 }, (_, i) => cycle(`ns/p${String(wave)}-${String(i)}`)));
      emu.api.faults.clear();
      if (vsw1 !== undefined) vsw1.ipNotEnough = false;
      await new Promise((r) => setTimeout(r, 3000)); // the pool settles between its watermarks (the excess above max_pool_size given back)

      expect(doubles).toBe(0);
      expect(failures).toBe(0);
      const enis = ours(emu);
      // one CreateNetworkInterface reply was lost after it took effect: the retry with the same ClientToken got the
      // same ENI, so every ENI in the cloud is one the pool holds (no orphan, no twin)
      const inPool = pool.stats();
      expect(enis.filter((e) => e.status === 'InUse').length).toBe(inPool.enis);
      expect(enis.length).toBe(inPool.enis);
      expect(enis.every((e) => e.vSwitchId === 'vsw-node0000000000000002')).toBe(true); // failed over
      const cloudIps = enis.reduce((n, e) => n + e.ips.length, 0);
      expect(cloudIps).toBe(inPool.ips);
      expect(inPool.leased).toBe(0);
      expect(inPool.idle).toBeLessThanOrEqual(6);
      console.log(`aliyun pool churn: ${String(emu.api.calls.length)} API calls for 48 pods; ENIs ${String(inPool.enis)}, IPs ${String(inPool.ips)}, idle ${String(inPool.idle)}; calls by action ${JSON.stringify(countBy(emu.api.calls.map((c) => `${c.action}:${c.outcome}`)))}`);
    } finally {
      await pool.stop();
      await emu.close();
    }
  }, 60_000);
});

describe('ENI tags', () => {
  it("new ENIs carry eni_conf's eni_tags under the marker; ENIs made before an eni_tags change are still the pool's", async () => {
    const { emu, withTags } = await setup();
    try {
      const before = await withTags({ team: 'a', creator: 'someone-else' }).createEni('vsw-node0000000000000001', 2, 'tok-tags-1');
      expect(emu.state.enis.get(before.id)?.tags).toEqual({ creator: 'terway-hub', team: 'a' }); // the marker cannot be overridden
      const after = withTags({ team: 'b' });
      const made = await after.createEni('vsw-node0000000000000001', 2, 'tok-tags-2');
      expect(emu.state.enis.get(made.id)?.tags).toEqual({ creator: 'terway-hub', team: 'b' });
      expect((await after.listEnis()).map((e) => e.id).sort()).toEqual([before.id, made.id].sort());
    } finally {
      await emu.close();
    }
  }, 30_000);
});

describe('one cloud call per ENI (ECS refuses concurrent operations on one ENI)', () => {
  it('bursts and mass releases on warm ENIs: the emulator that refuses concurrent ENI operations never sees one from the pool', async () => {
    // ecs.g6.4xlarge: 7 secondary ENIs × 20 IPs; 2 warm ENIs (node max pods 40); every ENI operation holds the ENI 150 ms
    const { emu, pool, factory } = await setup('ecs.g6.4xlarge', { minIdle: 0, maxIdle: 3, warmEnis: 'auto', nodeMaxPods: 40 });
    try {
      emu.api.faults.serializeEnis(150);
      await pool.start(new Set());
      await waitUntil(() => pool.stats().enis === 2 && pool.stats().inFlight === 0);
      for (let round = 0; round < 2; round++) {
        // 34 pods at once: two Assign rounds on each warm ENI (≤ 10 per call, one call per ENI at a time)
        const got = await Promise.all(Array.from({ length: 34 }, (_, i) => pool.acquire({ label: `ns/r${String(round)}-${String(i)}` })));
        expect(new Set(got.map((g) => g.ip)).size).toBe(34);
        for (const g of got) pool.release(g.ip);
        await waitUntil(() => pool.stats().idle <= 3 && pool.stats().releasing === 0 && pool.stats().inFlight === 0);
      }
      const conflicts = emu.api.calls.filter((c) => c.outcome.endsWith('Conflict'));
      expect(conflicts).toEqual([]);
      expect(emu.api.count('UnassignPrivateIpAddresses').ok).toBeGreaterThan(0);
      expect(pool.stats().enis).toBeGreaterThanOrEqual(2); // warm ENIs are never deleted
      const ips = ours(emu).reduce((n, e) => n + e.ips.length, 0);
      expect(ips).toBe(pool.stats().ips);
      // the control: two calls on one ENI at once do meet the refusal (the client retries it: a conflict costs calls)
      const eni = ours(emu)[0]?.id ?? '';
      await Promise.all([factory.assignIps(eni, 1, 'tok-x1'), factory.assignIps(eni, 1, 'tok-x2')]);
      expect(emu.api.calls.filter((c) => c.outcome === 'Operation.Conflict').length).toBeGreaterThan(0);
    } finally {
      await pool.stop();
      await emu.close();
    }
  }, 120_000);
});

async function waitUntil(ok: () => boolean, ms = 40_000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out waiting for the pool to settle');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function countBy(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
