/**
 * docs/grafana/terway-hub.json uses only metrics that exist: every PromQL expression of the dashboard (panel targets
 * and template queries) is parsed for the metric names it reads, and each must be a series the REAL daemon's
 * registry exposes (a histogram's _bucket/_sum/_count, a counter's or gauge's own name). The daemon is started as
 * on a node without Kubernetes, with the builtin NetworkPolicy backend (no nft: its applier is a stand-in), so its
 * registry holds the service's, Terway's, the background work's and the policy backend's metrics.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { Daemon } from '../../../src/daemon/daemon.js';
import type { PolicyAdapters } from '../../../src/daemon/policy/adapters.js';
import { nodeAdapters } from '../../../src/main/adapters.js';
import { tempDir } from '../../helpers/tmp.js';

const DASHBOARD = join(process.cwd(), 'docs', 'grafana', 'terway-hub.json');

/** PromQL words that are not metric names (operators, modifiers; functions are told by the `(` after them). */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/** The metric names a PromQL expression (or a Grafana `label_values(metric, label)` query) reads. */
export function metricNamesOf(expr: string): string[] {
  const lv = /^\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/u.exec(expr);
  if (lv !== null) return [lv[1] ?? ''];
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/gu, '""') // strings (label values, legend)
    .replace(/\{[^}]*\}/gu, ' ') // label matchers
    .replace(/\[[^\]]*\]/gu, ' ') // ranges
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gu, ' '); // grouping label lists
  // whole identifiers (not the tail of a number like 1e3); those followed by `(` are functions
  const names = [...stripped.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*/gu)].filter((m) => !/^\s*\(/u.test(stripped.slice(m.index + m[0].length))).map((m) => m[0]);
  return [...new Set(names.filter((n) => !KEYWORDS.has(n.toLowerCase())))];
}

interface Panel {
  readonly title?: string;
  readonly targets?: readonly { readonly expr?: string }[];
  readonly panels?: readonly Panel[];
}

function expressionsOf(dash: { panels: readonly Panel[]; templating: { list: readonly { query?: unknown }[] } }): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const walk = (ps: readonly Panel[]): void => {
    for (const p of ps) {
      for (const t of p.targets ?? []) if (t.expr !== undefined) out.push({ where: `panel "${p.title ?? ''}"`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dash.panels);
  for (const v of dash.templating.list) {
    const q = typeof v.query === 'object' && v.query !== null ? (v.query as { query?: unknown }).query : v.query;
    if (typeof q === 'string' && q !== 'prometheus') out.push({ where: 'template variable', expr: q });
  }
  return out;
}

/** The series names a registry exposes, by type. */
async function exposedSeries(d: Daemon): Promise<Set<string>> {
  const out = new Set<string>();
  for (const m of await d.registry.getMetricsAsJSON()) {
    const type = String(m.type);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(`${m.name}${s}`);
    else if (type === 'summary') for (const s of ['', '_sum', '_count']) out.add(`${m.name}${s}`);
    else out.add(m.name);
  }
  return out;
}

describe('the example Grafana dashboard', () => {
  it('the PromQL parser finds metric names and nothing else', () => {
    expect(metricNamesOf('histogram_quantile(0.95, sum(rate(terway_rpc_latency_bucket{instance=~"$instance"}[5m])) by (le, rpc_api, error))')).toEqual(['terway_rpc_latency_bucket']);
    expect(metricNamesOf('terway_hub_policy_backend_state{x="a"} == 1 and on(instance) up')).toEqual(['terway_hub_policy_backend_state', 'up']);
    expect(metricNamesOf('sum by (kind) (increase(terway_hub_gc_reclaimed_total[1h]))')).toEqual(['terway_hub_gc_reclaimed_total']);
    expect(metricNamesOf('label_values(terway_hub_leases, instance)')).toEqual(['terway_hub_leases']);
  });

  it('reads only series the daemon registers', async () => {
    const dir = tempDir('hub-grafana-');
    const cfg = parseDaemonConfig({
      mode: 'veth-policy-routing',
      socket: join(dir, 'run', 'daemon.sock'),
      stateDir: join(dir, 'state'),
      cniConfDir: join(dir, 'net.d'),
      httpListen: '',
      local: { eni: { link: 'eth1', gateway: '192.168.0.1', ips: '192.168.0.10-192.168.0.20', subnet: '192.168.0.0/24' } },
      policy: { backend: 'builtin' },
    });
    const adapters = nodeAdapters({ sysctl: () => Promise.resolve(), sysfs: (p) => (p === '/sys/class/net/eth1/ifindex' ? Promise.resolve('7\n') : Promise.reject(new Error('no'))) });
    const policy: PolicyAdapters = {
      ...adapters.policyFor(cfg, {}),
      cleanResidue: () => Promise.resolve({ removed: [], failures: [] }),
      writeFile: () => Promise.resolve(),
      nodeFacts: () => Promise.resolve({ iptablesBackend: 'nft' }),
      builtinApplier: { apply: () => Promise.resolve(), removePodTable: () => Promise.resolve(), removeTable: () => Promise.resolve(), readBack: () => Promise.resolve(undefined), cutDenied: () => Promise.resolve([]) },
    };
    const daemon = new Daemon(cfg, { ...adapters, policy });
    await daemon.start();
    let series: Set<string>;
    try {
      series = await exposedSeries(daemon);
    } finally {
      await daemon.stop();
    }
    const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Parameters<typeof expressionsOf>[0];
    const exprs = expressionsOf(dash);
    expect(exprs.length).toBeGreaterThanOrEqual(20);
    const read = new Set<string>();
    const unknownIn = (list: readonly { where: string; expr: string }[]): string[] => {
      const unknown: string[] = [];
      for (const { where, expr } of list) {
        const names = metricNamesOf(expr);
        expect({ where, expr, names: names.length > 0 }).toEqual({ where, expr, names: true });
        for (const n of names) {
          read.add(n);
          if (!series.has(n)) unknown.push(`${where}: ${n} (${expr})`);
        }
      }
      return unknown;
    };
    expect(unknownIn(exprs)).toEqual([]);
    // Terway's names are on the dashboard (a Terway dashboard reads the hub)
    for (const n of ['terway_rpc_latency_bucket', 'aliyun_openapi_latency_bucket', 'terway_resource_pool_total_count', 'terway_resource_pool_idle_count', 'terway_resource_pool_disposed_count', 'terway_eniip_factory_eni_count', 'terway_eniip_factory_ip_count', 'terway_eniip_factory_ip_alloc_count']) expect(read).toContain(n);
    // and a name the daemon does not register would be caught
    expect(series.has('terway_hub_no_such_metric')).toBe(false);
    expect(unknownIn([{ where: 'probe', expr: 'rate(terway_hub_no_such_metric[5m])' }])).toHaveLength(1);
  });
});
