/**
 * The warm pool under a pod churn trace, against the ECS emulator through the real SDK (the Aliyun provider's cloud,
 * src/cloud/aliyun/factory.ts), with realistic cloud latencies: ENI create + attach ≈ 2.5 s, IP assign ≈ 1 s,
 * unassign ≈ 0.5 s. Time is scaled by BENCH_POOL_SCALE (default 0.1: every latency and every trace gap × 0.1, so a
 * run takes seconds); the figures printed are in real (unscaled) milliseconds. The trace: a burst of 110 creations
 * (kubelet after a node restart), steady churn (one create and one delete every 2 s for 2 min), a scale-down by 80,
 * a second burst of 60, then mass deletion, then 5 min of quiet (the instance type allows 140 IPs). Policies compared: Terway's static watermarks and the demand-aware refill
 * (the default). Printed per policy: the share of ADDs served without waiting for the cloud, p50/p99 allocation
 * latency, cloud calls per pod, and the idle IPs over time. Last line: `RESULT bench:pool hit_pct=… p99_alloc_ms=…
 * calls_per_pod=… max_idle=…` for the default policy. Run: `npm run bench:pool`.
 */
import type { IpAddr } from '../src/lib/brand.js';
import { silentLogger } from '../src/lib/log.js';
import { DEFAULT_BACKOFFS, type Backoff, type BackoffKey } from '../src/cloud/aliyun/backoff.js';
import type { Clock } from '../src/cloud/aliyun/clock.js';
import { createCredentialProvider } from '../src/cloud/aliyun/credentials.js';
import { AliyunEcsClient } from '../src/cloud/aliyun/ecs-client.js';
import { createAliyunFactory } from '../src/cloud/aliyun/factory.js';
import { createMetadataClient } from '../src/cloud/aliyun/metadata.js';
import { Redactor } from '../src/cloud/aliyun/redact.js';
import { createSdkTransport } from '../src/cloud/aliyun/sdk.js';
import { parseEniConf } from '../src/config/eni-conf.js';
import { DEFAULT_DEMAND } from '../src/pool/plan.js';
import { Pool } from '../src/pool/pool.js';
import type { EniResource, PoolJournal, PoolOperation, ResourceFactory } from '../src/pool/types.js';
import { EcsEmulator } from '../test/ecs-emulator/index.js';

const SCALE = Number(process.env.BENCH_POOL_SCALE ?? '0.1');
const MIN_POOL = 2;
const MAX_POOL = 30;
const LAT = { create: 2500, assign: 1000, unassign: 500 };
const TAGS = { creator: 'terway-hub' };
const sleep = (realMs: number): Promise<void> => new Promise((r) => setTimeout(r, realMs * SCALE));

const FAST: Record<BackoffKey, Backoff> = Object.fromEntries(
  Object.entries(DEFAULT_BACKOFFS).map(([k, b]) => [k, { ...b, initialDelayMs: b.initialDelayMs * SCALE, durationMs: b.durationMs * SCALE, capMs: b.capMs * SCALE }]),
) as Record<BackoffKey, Backoff>;

class MemJournal implements PoolJournal {
  #ops = new Map<string, PoolOperation>();
  #enis: readonly EniResource[] = [];
  begin(op: PoolOperation): void { this.#ops.set(op.id, op); }
  end(id: string): void { this.#ops.delete(id); }
  pending(): readonly PoolOperation[] { return [...this.#ops.values()]; }
  saveEnis(e: readonly EniResource[]): void { this.#enis = e; }
  loadEnis(): readonly EniResource[] { return this.#enis; }
}

/** The cloud's own time on top of the emulator's (create + attach, assign, unassign take what they take on ECS). */
function withLatency(f: ResourceFactory): ResourceFactory {
  return {
    ...f,
    createEni: async (v, c, t) => { await sleep(LAT.create); return f.createEni(v, c, t); },
    assignIps: async (e, c, t) => { await sleep(LAT.assign); return f.assignIps(e, c, t); },
    unassignIps: async (e, ips) => { await sleep(LAT.unassign); return f.unassignIps(e, ips); },
  };
}

interface Outcome {
  readonly pods: number;
  readonly hits: number;
  readonly latencies: number[];
  readonly calls: number;
  readonly maxIdle: number;
  readonly idleSamples: { t: number; idle: number }[];
  readonly failures: number;
}

async function runPolicy(demandAware: boolean): Promise<Outcome> {
  const emu = await EcsEmulator.start({ instanceType: 'ecs.g6.4xlarge', vswitches: [{ id: 'vsw-bench00000000000001', cidr: '192.168.0.0/20' }] });
  emu.state.timing.attachDelayMs = 0;
  const clock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
  const redactor = new Redactor();
  const metadata = createMetadataClient({ endpoint: emu.metadata.url, timeoutMs: 2000 });
  const credentials = createCredentialProvider({ accessKey: emu.credentials.accessKeyId, accessSecret: emu.credentials.accessKeySecret }, redactor, clock);
  const cloud = new AliyunEcsClient({
    transport: createSdkTransport({ regionId: emu.state.regionId, endpoint: emu.api.endpoint, protocol: 'http', readTimeoutMs: 5000 }),
    credentials, metadata, redactor, regionId: emu.state.regionId, backoff: FAST, attemptTimeoutMs: 5000, tags: TAGS, clock,
  });
  const zone = await metadata.zoneId();
  const eniConf = parseEniConf({ version: '1', vswitches: { [zone]: ['vsw-bench00000000000001'] }, security_groups: ['sg-bench0001'] }).value;
  const factory = withLatency(createAliyunFactory({ cloud, metadata, eniConf, tags: TAGS }));
  let n = 0;
  const pool = new Pool({
    factory, journal: new MemJournal(), log: silentLogger, newToken: () => `bench-${String(++n)}`,
    options: { minIdle: MIN_POOL, maxIdle: MAX_POOL, coalesceMs: 300 * SCALE, demand: { ...DEFAULT_DEMAND, burstWindowMs: 10_000 * SCALE, historyMs: 600_000 * SCALE, demandAware }, syncIntervalMs: 30_000 * SCALE, retryMs: 2000 * SCALE },
  });
  await pool.start(new Set());
  await sleep(10_000); // the node's first minutes: warmed to min_pool_size
  const callsAtStart = emu.api.calls.length;
  const held = new Map<string, IpAddr>();
  const latencies: number[] = [];
  let hits = 0;
  let pods = 0;
  let failures = 0;
  let maxIdle = 0;
  const idleSamples: { t: number; idle: number }[] = [];
  const t0 = Date.now();
  const sampler = setInterval(() => {
    const idle = pool.stats().idle;
    maxIdle = Math.max(maxIdle, idle);
    idleSamples.push({ t: Math.round((Date.now() - t0) / SCALE), idle });
  }, 1000 * SCALE);
  const add = async (pod: string): Promise<void> => {
    pods++;
    const started = Date.now();
    const wait = { seen: false };
    try {
      const got = await pool.acquire({ label: pod, onWait: () => { wait.seen = true; } });
      held.set(pod, got.ip);
      if (!wait.seen) hits++;
      latencies.push((Date.now() - started) / SCALE);
    } catch {
      failures++;
    }
  };
  const del = (pod: string): void => {
    const ip = held.get(pod);
    if (ip === undefined) return;
    held.delete(pod);
    pool.release(ip);
  };
  // 1. a burst of 110
  await Promise.all(Array.from({ length: 110 }, (_, i) => add(`burst1-${String(i)}`)));
  await sleep(20_000);
  // 2. steady churn: 60 × (one new pod, one old gone) every 2 s
  for (let i = 0; i < 60; i++) {
    void add(`steady-${String(i)}`);
    del(`burst1-${String(i)}`);
    await sleep(2000);
  }
  await sleep(10_000);
  // the deployment scales down by 80
  for (const pod of [...held.keys()].slice(0, 80)) del(pod);
  await sleep(30_000);
  // 3. a second burst of 60
  await Promise.all(Array.from({ length: 60 }, (_, i) => add(`burst2-${String(i)}`)));
  await sleep(20_000);
  // 4. mass deletion, then quiet
  for (const pod of [...held.keys()]) del(pod);
  await sleep(300_000);
  clearInterval(sampler);
  const calls = emu.api.calls.length - callsAtStart;
  pool.stop();
  await emu.close();
  return { pods, hits, latencies, calls, maxIdle, idleSamples, failures };
}

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))] ?? 0;
}

function report(name: string, o: Outcome): { hit: number; p50: number; p99: number; cpp: number } {
  const hit = (100 * o.hits) / o.pods;
  const r = { hit, p50: pct(o.latencies, 0.5), p99: pct(o.latencies, 0.99), cpp: o.calls / o.pods };
  const every = Math.max(1, Math.floor(o.idleSamples.length / 12));
  const idle = o.idleSamples.filter((_, i) => i % every === 0).map((s) => `${String(Math.round(s.t / 1000))}s:${String(s.idle)}`).join(' ');
  console.log(
    `${name.padEnd(13)} pods ${String(o.pods)}  served without waiting ${hit.toFixed(1)}%  alloc p50 ${r.p50.toFixed(0)} ms  p99 ${r.p99.toFixed(0)} ms  cloud calls/pod ${r.cpp.toFixed(2)}  max idle ${String(o.maxIdle)}  failures ${String(o.failures)}\n  idle over time: ${idle}`,
  );
  return r;
}

const stat = await runPolicy(false);
const dyn = await runPolicy(true);
console.log(`bench:pool — min_pool_size ${String(MIN_POOL)}, max_pool_size ${String(MAX_POOL)}, latencies ENI ${String(LAT.create)} ms, assign ${String(LAT.assign)} ms, time scale ${String(SCALE)}`);
report('static', stat);
const d = report('demand-aware', dyn);
const st = (100 * stat.hits) / stat.pods;
console.log(`RESULT bench:pool hit_pct=${d.hit.toFixed(1)} p99_alloc_ms=${d.p99.toFixed(0)} calls_per_pod=${d.cpp.toFixed(2)} max_idle=${String(dyn.maxIdle)} static_hit_pct=${st.toFixed(1)} failures=${String(dyn.failures)}`);
