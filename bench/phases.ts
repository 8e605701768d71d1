/**
 * Where the hub's ADDs and DELs spent their time, from the daemon's own metrics (src/daemon/metrics.ts,
 * terway-metrics.ts) scraped over its unix socket: the mean of each ADD phase histogram and of the daemon's handling of
 * each call. The plugin's own phases (netlink, its whole ADD) come from the Confirm it sends.
 */
import { request } from 'node:http';

function scrape(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path: '/metrics' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => { resolve(body); });
    }).on('error', reject).end();
  });
}

/** Sum of a series' samples whose labels include `label="value"`. */
function total(text: string, name: string, label: string, value: string): number {
  let n = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes(`${label}="${value}"`)) continue;
    n += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

export interface PhaseMeans {
  /** ADD phase → mean ms (phases never observed are left out). */
  readonly add: Readonly<Record<string, number>>;
  /** Terway rpc name → mean ms the daemon spent on it. */
  readonly rpc: Readonly<Record<string, number>>;
}

export async function phaseMeans(metricsSocket: string): Promise<PhaseMeans> {
  const text = await scrape(metricsSocket);
  const add: Record<string, number> = {};
  for (const phase of ['pod_facts', 'node_facts', 'pool', 'cloud', 'policy', 'store', 'netlink', 'plugin']) {
    const count = total(text, 'terway_hub_add_phase_seconds_count', 'phase', phase);
    if (count > 0) add[phase] = (total(text, 'terway_hub_add_phase_seconds_sum', 'phase', phase) / count) * 1000;
  }
  const rpc: Record<string, number> = {};
  for (const api of ['AllocIP', 'GetIPInfo', 'ReleaseIP', 'confirm']) {
    const count = total(text, 'terway_rpc_latency_count', 'rpc_api', api);
    if (count > 0) rpc[api] = total(text, 'terway_rpc_latency_sum', 'rpc_api', api) / count; // already ms
  }
  return { add, rpc };
}

export function formatPhases(p: PhaseMeans): string {
  const f = (r: Readonly<Record<string, number>>): string => Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
  return `hub phases (mean ms, the daemon's metrics): ADD ${f(p.add)}; daemon time per call: ${f(p.rpc)}`;
}
