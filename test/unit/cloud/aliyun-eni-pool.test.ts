/**
 * The exclusive-ENI pool over the Aliyun provider's cloud (src/cloud/aliyun/factory.ts → the ECS client → the real
 * SDK) against the ECS emulator, with faults: throttling, a CreateNetworkInterface reply lost after the ENI was made,
 * a vSwitch out of addresses. Invariants: no ENI held by two pods, every ENI created with one IP, no ENI created twice
 * for one request (the pool and the cloud agree), idle ENIs between the watermarks once the faults stop; the
 * device plugin advertises the instance type's ENI capacity (maxENI = Adapters − 1 = 7 for ecs.g6.4xlarge).
 */
import { rmSync } from 'node:fs';
import { DEFAULT_BACKOFFS, type Backoff, type BackoffKey } from '../../../src/cloud/aliyun/backoff.js';
import type { Clock } from '../../../src/cloud/aliyun/clock.js';
import { createCredentialProvider } from '../../../src/cloud/aliyun/credentials.js';
import { AliyunEcsClient } from '../../../src/cloud/aliyun/ecs-client.js';
import { createAliyunFactory } from '../../../src/cloud/aliyun/factory.js';
import { createMetadataClient } from '../../../src/cloud/aliyun/metadata.js';
import { Redactor } from '../../../src/cloud/aliyun/redact.js';
import { createSdkTransport } from '../../../src/cloud/aliyun/sdk.js';
import { parseEniConf } from '../../../src/config/eni-conf.js';
import { devicePluginCapacity } from '../../../src/device-plugin/capacity.js';
import { EniDevicePlugin } from '../../../src/device-plugin/plugin.js';
import { silentLogger } from '../../../src/lib/log.js';
import { EniPool } from '../../../src/pool/eni-pool.js';
import { EcsEmulator } from '../../ecs-emulator/index.js';
import { tempDir } from '../../helpers/tmp.js';
import { FakeKubelet, PluginClient } from '../device-plugin/fake-kubelet.js';
import { MemoryJournal } from '../pool/fake-factory.js';

const FAST: Record<BackoffKey, Backoff> = Object.fromEntries(
  Object.entries(DEFAULT_BACKOFFS).map(([k, b]) => [k, { ...b, initialDelayMs: b.initialDelayMs / 100, durationMs: b.durationMs / 100, capMs: b.capMs / 100, steps: Math.max(b.steps, 4) }]),
) as Record<BackoffKey, Backoff>;

async function setup() {
  const emu = await EcsEmulator.start({ instanceType: 'ecs.g6.4xlarge' });
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
  let n = 0;
  const pool = new EniPool({ factory, journal: new MemoryJournal(), log: silentLogger, newToken: () => `hub-eni-${String(process.pid)}-${String(++n)}`, options: { minIdle: 1, maxIdle: 2, coalesceMs: 20, retryMs: 300, fatalRetryMs: 1000, syncIntervalMs: 500 } });
  return { emu, pool };
}

const ours = (emu: EcsEmulator) => [...emu.state.enis.values()].filter((e) => e.tags.creator === 'terway-hub');

describe('the exclusive-ENI pool on Aliyun (emulated ECS, real SDK)', () => {
  it('churn under faults: whole ENIs of one IP, none held twice, none created twice, the cloud and the pool agree', async () => {
    const { emu, pool } = await setup();
    try {
      await pool.start(new Set());
      expect(pool.maxEnis).toBe(7); // ⌊8 adapters × 1⌋ + 0 − 1
      emu.api.faults.throttle('CreateNetworkInterface', 0.3);
      emu.api.faults.throttle('DescribeNetworkInterfaces', 0.3);
      emu.api.faults.lateReply('CreateNetworkInterface', { mode: 'drop', times: 1 });
      const vsw1 = emu.state.vswitches.get('vsw-node0000000000000001');
      if (vsw1 !== undefined) vsw1.ipNotEnough = true;

      const holders = new Map<string, string>();
      let doubles = 0;
      let failures = 0;
      const cycle = async (pod: string): Promise<void> => {
        try {
          const eni = await pool.acquire({ label: pod });
          if (holders.has(eni.id)) doubles++;
          holders.set(eni.id, pod);
          expect(eni.ips).toEqual([eni.primaryIp]);
          await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
          holders.delete(eni.id);
          pool.release(eni.primaryIp);
        } catch {
          failures++;
        }
      };
      for (let wave = 0; wave < 3; wave++) await Promise.all(Array.from({ length: 6 }, (_, i) => cycle(`ns/p${String(wave)}-${String(i)}`)));
      emu.api.faults.clear();
      if (vsw1 !== undefined) vsw1.ipNotEnough = false;
      await new Promise((r) => setTimeout(r, 3000)); // idle ENIs above max_pool_size are deleted

      expect(doubles).toBe(0);
      expect(failures).toBe(0);
      const enis = ours(emu);
      const stats = pool.stats();
      // one CreateNetworkInterface reply was lost after it took effect: its retry (same ClientToken) got the same ENI
      expect(enis.length).toBe(stats.enis);
      expect(enis.every((e) => e.status === 'InUse' && e.ips.length === 1)).toBe(true);
      expect(enis.every((e) => e.vSwitchId === 'vsw-node0000000000000002')).toBe(true); // failed over
      expect(stats).toMatchObject({ leased: 0, waiting: 0 });
      expect(stats.idle).toBeGreaterThanOrEqual(1);
      expect(stats.idle).toBeLessThanOrEqual(2);
      console.log(`aliyun exclusive-ENI churn: 18 pods, ${String(emu.api.calls.length)} API calls, ENIs now ${String(stats.enis)}; by action ${JSON.stringify(countBy(emu.api.calls.map((c) => `${c.action}:${c.outcome}`)))}`);
    } finally {
      await pool.stop();
      await emu.close();
    }
  }, 60_000);

  it('the aliyun/eni device plugin advertises the instance type\'s ENI capacity in eni mode', async () => {
    const { emu, pool } = await setup();
    const dir = tempDir('hub-dp-eni-');
    const kubelet = new FakeKubelet(dir);
    await kubelet.start();
    const plugin = new EniDevicePlugin({ capacity: devicePluginCapacity('eni', 0, (await pool.start(new Set()), pool.maxEnis)), dir, log: silentLogger });
    const client = new PluginClient(plugin.socketPath);
    try {
      await plugin.start();
      await kubelet.waitForRegistrations(1);
      const law = client.listAndWatch();
      expect((await law.next(1)).devices.map((d) => d.ID)).toEqual(['eni-0', 'eni-1', 'eni-2', 'eni-3', 'eni-4', 'eni-5', 'eni-6']);
      law.cancel();
      // other modes keep the configured number; eni mode without a pool is a config error, not a guess
      expect(devicePluginCapacity('veth-policy-routing', 3, 7)).toBe(3);
      expect(() => devicePluginCapacity('eni', 3, undefined)).toThrow(/instance type's ENI capacity is unknown/u);
    } finally {
      client.close();
      await plugin.stop();
      await kubelet.stop();
      await pool.stop();
      await emu.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

function countBy(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
