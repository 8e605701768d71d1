/**
 * The pool's cloud calls as metrics: the REAL local factory (the demo's cloud) wrapped by instrumentFactory, its
 * calls fed to the daemon's ops metrics, read back from the registry's exposition: Terway's ip_alloc_count by MAC
 * and status, disposed IPs (unassigned, and a deleted ENI's), the pool call histogram. GC reclaims by kind and config
 * errors likewise; and the plugin's Confirm timings as the daemon parses them.
 */
import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { createLocalFactory, LOCAL_VSWITCH } from '../../../src/cloud/local/factory.js';
import type { LocalEniConfig } from '../../../src/config/daemon-config.js';
import type { Cidr, IfName, IpAddr, MacAddr } from '../../../src/lib/brand.js';
import { InvalidInputError } from '../../../src/lib/errors.js';
import { instrumentFactory } from '../../../src/daemon/factory-metrics.js';
import { METRIC_PREFIX } from '../../../src/daemon/metrics.js';
import { registerOpsMetrics } from '../../../src/daemon/ops-metrics.js';
import { registerTerwayMetrics } from '../../../src/daemon/terway-metrics.js';
import { parseConfirmRequest } from '../../../src/rpc/messages.js';

const MAC = '02:00:00:00:00:aa' as MacAddr;
const ENI: LocalEniConfig = { link: 'eth1' as IfName, gateway: '192.168.5.1' as IpAddr, ips: ['192.168.5.10-192.168.5.20'], subnet: '192.168.5.0/24' as Cidr };

/** The value of one exposition line `name{labels} value` (labels as prom-client writes them), undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function setup(lastConfigError: () => string | undefined = () => undefined) {
  const registry = new Registry();
  const terway = registerTerwayMetrics(registry, () => undefined);
  const ops = registerOpsMetrics(registry, METRIC_PREFIX, terway, lastConfigError);
  return { registry, ops };
}

describe('pool cloud call metrics (instrumented local factory)', () => {
  it('counts IPs asked for by MAC and status, IPs given back, and times each call', async () => {
    const { registry, ops } = setup();
    const f = instrumentFactory(createLocalFactory({ eni: ENI, mac: () => Promise.resolve(MAC), known: () => new Set(), latency: { create: 0, assign: 20, unassign: 0 } }), (c) => { ops.factoryCall(c); });
    expect(await f.limits()).toEqual({ maxEnis: 1, ipsPerEni: 11 });
    expect(f.knownLimits).toEqual({ maxEnis: 1, ipsPerEni: 11 });
    const eni = await f.createEni(LOCAL_VSWITCH, 3, 't1');
    const more = await f.assignIps(eni.id, 2, 't2');
    expect(f.knownEnis()).toEqual([{ mac: MAC, ips: 5 }]);
    await f.unassignIps(eni.id, [more[0] as IpAddr]);
    expect(f.knownEnis()).toEqual([{ mac: MAC, ips: 4 }]);
    await expect(f.assignIps('eni-nope', 4, 't3')).rejects.toBeInstanceOf(InvalidInputError);
    await f.deleteEni(eni.id);
    expect(f.knownEnis()).toEqual([]);

    const text = await registry.metrics();
    expect(sample(text, `terway_eniip_factory_ip_alloc_count{eni="${MAC}",status="succeed"}`)).toBe(5);
    expect(sample(text, 'terway_eniip_factory_ip_alloc_count{eni="",status="fail"}')).toBe(4);
    // one unassigned, then the deleted ENI's four
    expect(sample(text, 'terway_resource_pool_disposed_count{type="LocalIP",ipStack="IPv4"}')).toBe(5);
    for (const [call, result, n] of [['create-eni', 'ok', 1], ['assign', 'ok', 1], ['assign', 'error', 1], ['unassign', 'ok', 1], ['delete-eni', 'ok', 1]] as const) {
      expect({ call, result, n: sample(text, `terway_hub_pool_cloud_call_seconds_count{call="${call}",result="${result}"}`) }).toEqual({ call, result, n });
    }
    // the assign call's 20 ms latency is in its histogram
    expect(sample(text, 'terway_hub_pool_cloud_call_seconds_sum{call="assign",result="ok"}')).toBeGreaterThanOrEqual(0.015);
  });

  it('GC reclaims by kind, passes by result; config errors by source and the rejected-now gauge', async () => {
    const config: { lastError?: string } = {};
    const { registry, ops } = setup(() => config.lastError);
    let text = await registry.metrics();
    expect(sample(text, 'terway_hub_gc_reclaimed_total{kind="lease"}')).toBe(0); // every kind exported from the start
    expect(sample(text, 'terway_hub_config_error')).toBe(0);
    ops.gcPass({ counts: { released: 2, veths: 1, rules: 3, routes: 0, ifbs: 0 }, errors: [] });
    ops.gcPass({ counts: { released: 1, veths: 0, rules: 0, routes: 2, ifbs: 1 }, errors: ['release x: busy'] });
    ops.configRejected('kube-system/eni-config');
    config.lastError = 'kube-system/eni-config: daemon_mode: unknown mode';
    text = await registry.metrics();
    expect(['lease', 'veth', 'rule', 'route', 'ifb'].map((k) => sample(text, `terway_hub_gc_reclaimed_total{kind="${k}"}`))).toEqual([3, 1, 3, 2, 1]);
    expect(sample(text, 'terway_hub_gc_passes_total{result="ok"}')).toBe(1);
    expect(sample(text, 'terway_hub_gc_passes_total{result="incomplete"}')).toBe(1);
    expect(sample(text, 'terway_hub_config_errors_total{source="kube-system/eni-config"}')).toBe(1);
    expect(sample(text, 'terway_hub_config_error')).toBe(1);
  });
});

describe('the Confirm request\'s plugin timings', () => {
  const key = { containerId: 'c1', ifName: 'eth0' };
  it('are optional, milliseconds 0 to an hour', () => {
    expect(parseConfirmRequest(key)).toEqual(key);
    expect(parseConfirmRequest({ ...key, timings: { netlinkMs: 1.25, pluginMs: 14 } })).toEqual({ ...key, timings: { netlinkMs: 1.25, pluginMs: 14 } });
    expect(parseConfirmRequest({ ...key, timings: {} })).toEqual({ ...key, timings: {} });
    for (const bad of [-1, Number.NaN, 'x', 3_600_001, null]) {
      expect(() => parseConfirmRequest({ ...key, timings: { netlinkMs: bad } })).toThrow(/timings\.netlinkMs/u);
    }
    expect(() => parseConfirmRequest({ ...key, timings: 5 })).toThrow(InvalidInputError);
  });
});
