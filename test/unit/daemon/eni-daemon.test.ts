/**
 * The daemon in exclusive-ENI mode (eni-config `daemon_mode: ENI`) over the local provider's `local.enis`: each pod
 * gets a whole ENI (its primary IP, MAC, host link found by MAC, gateway) with the node facts (host IP, service CIDR
 * from eni_conf, host_stack_cidrs from the CNI conf) and its bandwidth annotation; a release pools the ENI and the
 * next pod gets it back; the device plugin's capacity is the ENIs the node may have; a live switch out is refused.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { Daemon, type DaemonContext } from '../../../src/daemon/daemon.js';
import { devicePluginCapacity } from '../../../src/device-plugin/capacity.js';
import type { IfName, MacAddr } from '../../../src/lib/brand.js';
import { nodeAdapters } from '../../../src/main/adapters.js';
import { FakeKube } from './fake-kube.js';
import { req } from './helpers/fixtures.js';
import { tempDir } from '../../helpers/tmp.js';

const MACS = ['02:16:3e:00:00:01', '02:16:3e:00:00:02'] as const;
const ENI_CONF = JSON.stringify({ version: '1', min_pool_size: 0, max_pool_size: 5, service_cidr: '10.96.0.0/16' });
const CNI_CONF = JSON.stringify({ type: 'terway', host_stack_cidrs: ['169.254.20.10/32'] });

const running: Daemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

/** The node's links by MAC: what `linkByMac` reads from sysfs on a real node. */
const hostLinks = new Map<string, string>([[MACS[0], 'eth1'], [MACS[1], 'eni02163e000002']]);

async function start(kube: FakeKube): Promise<{ d: Daemon; ctx: () => DaemonContext }> {
  const dir = tempDir('hub-eni-');
  const cfg = parseDaemonConfig({
    mode: 'veth-policy-routing',
    socket: join(dir, 'run', 'daemon.sock'),
    stateDir: join(dir, 'state'),
    cniConfDir: join(dir, 'net.d'),
    cniLogFile: join(dir, 'log', 'cni.log'), // not /var/log on the test host (the daemon creates the directory)
    httpListen: '',
    local: {
      eni: { link: 'eth9', gateway: '192.168.0.1', ips: '192.168.0.10-192.168.0.11', subnet: '192.168.0.0/24' },
      enis: MACS.map((mac, i) => ({ mac, ip: `10.2.0.${String(10 + i)}`, subnet: '10.2.0.0/24', gateway: '10.2.0.253' })),
    },
    eni: { hostIp: '172.31.5.10' },
  });
  let context: DaemonContext | undefined;
  const d = new Daemon(cfg, {
    kube,
    nodeName: kube.nodeName,
    ...nodeAdapters({ sysctl: () => Promise.resolve(), runner: { run: () => Promise.resolve({ stdout: '', stderr: '', exitCode: 0 }) }, sysfs: () => Promise.resolve('7') }),
    linkByMac: (mac: MacAddr) => Promise.resolve(hostLinks.get(mac) as IfName | undefined),
    kubeRetry: { attempts: 3, baseDelayMs: 1 },
    components: (c) => {
      context = c;
      return [];
    },
  });
  running.push(d);
  await d.start();
  await d.agent?.config.settled();
  return { d, ctx: () => { if (context === undefined) throw new Error('no context'); return context; } };
}

describe('Daemon in exclusive-ENI mode (daemon_mode: ENI)', () => {
  it('a pod gets a whole ENI with the node facts and its bandwidth; DEL pools the ENI; the next pod gets it back', async () => {
    const kube = new FakeKube();
    kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'ENI', '10-terway.conf': CNI_CONF });
    const { d, ctx } = await start(kube);
    const svc = d.service;
    if (svc === undefined) throw new Error('no service');
    expect(svc.mode).toBe('eni');
    kube.addPod('pod-a', { annotations: { 'kubernetes.io/egress-bandwidth': '10M' } });
    const a = await svc.allocate(req('ca', { podName: 'pod-a' }));
    expect(a.allocation).toEqual({
      mode: 'eni', ip: '10.2.0.10', subnet: '10.2.0.0/24', mtu: 1500,
      eni: { id: 'eni-local-02163e000001', mac: MACS[0], link: 'eth1', gateway: '10.2.0.253' },
      hostIp: '172.31.5.10', serviceCidrs: ['10.96.0.0/16'], hostStackCidrs: ['169.254.20.10/32'],
      bandwidth: { egress: { rateBps: 10_000_000, burstBits: expect.any(Number) as unknown as number } },
    });
    const b = await svc.allocate(req('cb', { podName: 'pod-b' }));
    expect(b.allocation).toMatchObject({ mode: 'eni', ip: '10.2.0.11', eni: { id: 'eni-local-02163e000002', link: 'eni02163e000002' } });
    // both ENIs in use: the third pod has none to get (the instance's capacity is the list)
    await expect(svc.allocate(req('cc', { podName: 'pod-c' }))).rejects.toThrow(/no exclusive ENI: this node holds all 2 secondary ENIs its instance type allows, every one in use/u);
    expect(devicePluginCapacity(svc.runtime.provider.mode, 0, ctx().exclusiveEniCapacity?.())).toBe(2);
    expect(await svc.release({ containerId: 'ca', ifName: 'eth0', reason: 'test' })).toEqual({ released: true });
    const c = await svc.allocate(req('cc', { podName: 'pod-c' }));
    expect(c.allocation).toMatchObject({ ip: '10.2.0.10', eni: { id: 'eni-local-02163e000001' } });
    // Terway: exclusive ENI is fixed per node
    kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'ENIMultiIP', '10-terway.conf': JSON.stringify({ type: 'terway', eniip_virtual_type: 'veth' }) });
    await d.agent?.config.settled();
    await d.agent?.reporter.idle();
    expect(svc.mode).toBe('eni');
    expect(kube.events.map((e) => e.message).join('\n')).toMatch(/cannot switch a running node between exclusive ENI and veth-policy-routing/u);
  });

  it('an ENI whose link is not on the node (still in a pod netns) is set aside; another one is handed out', async () => {
    const kube = new FakeKube();
    kube.setConfigMap('eni-config', { eni_conf: ENI_CONF, daemon_mode: 'ENI', '10-terway.conf': CNI_CONF });
    hostLinks.delete(MACS[0]);
    try {
      const { d } = await start(kube);
      const svc = d.service;
      if (svc === undefined) throw new Error('no service');
      const a = await svc.allocate(req('ca'));
      expect(a.allocation).toMatchObject({ ip: '10.2.0.11', eni: { mac: MACS[1] } });
      // the other one is set aside: a retryable failure saying so (the runtime retries ADD)
      await expect(svc.allocate(req('cb'))).rejects.toThrow(/this node holds all 2 secondary ENIs its instance type allows, 1 in use, 1 set aside \(host link not on the node yet\)/u);
      expect(d.service?.poolFree()).toBe(0);
    } finally {
      hostLinks.set(MACS[0], 'eth1');
    }
  });
});
