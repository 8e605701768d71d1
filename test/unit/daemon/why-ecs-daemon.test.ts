/**
 * `terway-hub why` for the cloud's own reasons, on a daemon with the Kubernetes emulator whose warm pool runs on the
 * ECS emulator through the Aliyun factory, the real ECS client and SDK (the pool's ENIs come from the emulated
 * cloud; the host facts from the local provider, as no host links exist here): an ENI whose attach takes seconds,
 * the cloud throttling every call (`Throttling`), a vSwitch out of addresses (`InvalidVSwitchId.IpNotEnough`:
 * inhibited, failing over to the zone's other vSwitch). Each is asked over the daemon's socket and checked against
 * the pod's `AllocIPWaiting` event.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { DEFAULT_BACKOFFS, type Backoff, type BackoffKey } from '../../../src/cloud/aliyun/backoff.js';
import { createCredentialProvider } from '../../../src/cloud/aliyun/credentials.js';
import { AliyunEcsClient } from '../../../src/cloud/aliyun/ecs-client.js';
import { createAliyunFactory } from '../../../src/cloud/aliyun/factory.js';
import { createMetadataClient } from '../../../src/cloud/aliyun/metadata.js';
import { Redactor } from '../../../src/cloud/aliyun/redact.js';
import { createSdkTransport } from '../../../src/cloud/aliyun/sdk.js';
import type { CloudProvider } from '../../../src/cloud/types.js';
import { parseEniConf } from '../../../src/config/eni-conf.js';
import type { HubService } from '../../../src/daemon/service.js';
import { whyExitCode } from '../../../src/main/why-cli.js';
import { EcsEmulator } from '../../ecs-emulator/index.js';
import { eventually } from '../../helpers/wait.js';
import { FakeKube } from './fake-kube.js';
import { req } from './helpers/fixtures.js';
import { startWhyDaemon, type WhyDaemon } from './helpers/why-daemon.js';

const VSW = ['vsw-node0000000000000001', 'vsw-node0000000000000002'];

const FAST: Record<BackoffKey, Backoff> = Object.fromEntries(
  Object.entries(DEFAULT_BACKOFFS).map(([k, b]) => [k, { ...b, initialDelayMs: b.initialDelayMs / 100, durationMs: b.durationMs / 100, capMs: b.capMs / 100, steps: Math.max(b.steps, 4) }]),
) as Record<BackoffKey, Backoff>;

interface Cloud {
  readonly emu: EcsEmulator;
  readonly d: WhyDaemon;
  readonly kube: FakeKube;
  readonly svc: () => HubService;
}

const open: { emu: EcsEmulator; d?: WhyDaemon }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.d?.daemon.stop();
    await o.emu.close();
  }
});

/** A daemon whose pool's cloud is the ECS emulator (a cold pool: no warm ENI, no idle IP kept). */
async function start(attachDelayMs: number): Promise<Cloud> {
  const emu = await EcsEmulator.start({ instanceType: 'ecs.g6.xlarge' });
  const slot: { emu: EcsEmulator; d?: WhyDaemon } = { emu };
  open.push(slot);
  emu.state.timing.attachDelayMs = attachDelayMs;
  const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
  const redactor = new Redactor();
  const metadata = createMetadataClient({ endpoint: emu.metadata.url, timeoutMs: 2000 });
  const cloud = new AliyunEcsClient({
    transport: createSdkTransport({ regionId: emu.state.regionId, endpoint: emu.api.endpoint, protocol: 'http', readTimeoutMs: 1500 }),
    credentials: createCredentialProvider({ accessKey: emu.credentials.accessKeyId, accessSecret: emu.credentials.accessKeySecret }, redactor, clock),
    metadata,
    redactor,
    regionId: emu.state.regionId,
    backoff: FAST,
    attemptTimeoutMs: 1500,
    clock,
  });
  const zone = await metadata.zoneId();
  const factory = createAliyunFactory({ cloud, metadata, eniConf: parseEniConf({ version: '1', vswitches: { [zone]: VSW }, security_groups: ['sg-emulated0001'] }).value });
  const kube = new FakeKube();
  const d = await startWhyDaemon(kube, { pool: { warmEnis: 0, maxIdle: 0 } }, (_cfg, base) => ({
    providerFor: async (cfg): Promise<CloudProvider> => ({ ...(await base.providerFor(cfg)), factory: { key: 'ecs-emulator', create: () => factory } }),
  }));
  slot.d = d;
  return { emu, d, kube, svc: () => { const s = d.daemon.service; if (s === undefined) throw new Error('no service'); return s; } };
}

describe('why: the cloud (ECS emulator)', () => {
  it('an ENI being created and attached (slow attach): eni-attaching on the vSwitch the pool chose', async () => {
    const { emu, d, kube, svc } = await start(1500);
    kube.addPod('a');
    const first = svc().allocate(req('ca', { podName: 'a' }));
    await eventually(async () => {
      const r = await d.why('default/a');
      expect(r.reason).toMatchObject({ kind: 'eni-attaching', detail: { cloud: 'aliyun' } });
      expect(VSW).toContain(r.reason?.detail.vSwitch);
    }, 1200);
    await eventually(async () => {
      expect(await d.waitEvents('default/a')).toContainEqual(expect.stringMatching(/^waiting \(eni-attaching\): waiting for a new ENI from aliyun \(1 being created and attached on vSwitch vsw-node/u));
    }, 1000);
    const { allocation } = await first;
    expect(await d.why('default/a')).toMatchObject({ waiting: false, ip: allocation.ip });
    expect(emu.api.calls.some((c) => c.action === 'AttachNetworkInterface')).toBe(true);
  });

  it('throttled by the cloud: the reason, when the pool tries again; served once the throttling stops', async () => {
    const { emu, d, kube, svc } = await start(50);
    emu.api.faults.throttle('CreateNetworkInterface', 1);
    kube.addPod('t');
    const served = svc().allocate(req('ct', { podName: 't' }));
    let retryAt = '';
    await eventually(async () => {
      const r = await d.why('default/t');
      expect(r.reason).toMatchObject({ kind: 'throttled', detail: { cloud: 'aliyun', action: 'create-eni', cause: 'throttled' } });
      expect(r.reason?.text).toMatch(/^throttled by aliyun \(create-eni: .*Throttling.*\); the pool (tries again at \S+|is trying again now)$/u);
      expect(whyExitCode(r)).toBe(3);
      retryAt = r.reason?.retryAt ?? '';
      expect(Date.parse(retryAt)).toBeGreaterThan(Date.now() - 3000);
    }, 8000, 50);
    await eventually(async () => {
      expect(await d.waitEvents('default/t')).toContainEqual(expect.stringMatching(/^waiting \(throttled\): throttled by aliyun \(create-eni: /u));
    }, 1000);
    emu.api.faults.throttle('CreateNetworkInterface', 0);
    const { allocation } = await served;
    expect(await d.why('default/t')).toMatchObject({ waiting: false, ip: allocation.ip });
  });

  it('a vSwitch out of addresses: inhibited, failing over to the other vSwitch while its ENI is created', async () => {
    const { emu, d, kube, svc } = await start(1500);
    emu.api.faults.failNext('CreateNetworkInterface', 'InvalidVSwitchId.IpNotEnough');
    kube.addPod('v');
    const served = svc().allocate(req('cv', { podName: 'v' }));
    let exhausted = '';
    await eventually(async () => {
      const r = await d.why('default/v');
      expect(r.reason).toMatchObject({ kind: 'vswitch-exhausted', detail: { cloud: 'aliyun', cause: 'vswitch-ip-exhausted' } });
      exhausted = r.reason?.detail.vSwitch ?? '';
      const other = VSW.find((v) => v !== exhausted) ?? '';
      expect(VSW).toContain(exhausted);
      expect(r.reason?.detail.failover).toBe(other);
      expect(r.reason?.text).toMatch(new RegExp(`^vSwitch ${exhausted} has no free IP \\(inhibited until \\S+\\); failing over: a new ENI is being created on ${other}$`, 'u'));
      expect(Date.parse(r.reason?.retryAt ?? '')).toBeGreaterThan(Date.now() + 60_000); // the 10 min inhibit window
    }, 3000, 50);
    await eventually(async () => {
      expect(await d.waitEvents('default/v')).toContainEqual(expect.stringMatching(new RegExp(`^waiting \\(vswitch-exhausted\\): vSwitch ${exhausted} has no free IP`, 'u')));
    }, 1000);
    const { allocation } = await served;
    expect(await d.why('default/v')).toMatchObject({ waiting: false, ip: allocation.ip });
    const created = [...emu.state.enis.values()].filter((e) => e.tags.creator === 'terway-hub');
    expect(created.map((e) => e.vSwitchId)).toEqual([VSW.find((v) => v !== exhausted)]);
  });
});
