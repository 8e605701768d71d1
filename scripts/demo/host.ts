/**
 * The demo's machine-level fixtures (all named `dm…`): the "vSwitch" namespace behind a veth playing the ENI, the
 * node address on lo, IPv4 forwarding; the snapshot of the host taken before and compared after; and the clean-up
 * list every step registers into (run in reverse on success, failure and Ctrl-C).
 */
import { diffHost, snapshotHost, type HostState } from '../../test/helpers/host-state.js';
import { run, sh } from './ui.js';

export const ENI = 'dm-eni';
export const VSW = 'dm-vswitch';
export const GATEWAY = '10.199.0.1';
export const SUBNET = '10.199.0.0/24';
export const POD_IPS = '10.199.0.10-10.199.0.19';
/** The node's address (the Node object's InternalIP): what the policy rules admit as "the node". */
export const NODE_IP = '10.199.255.1';
export const BUILTIN_TABLE = ['inet', 'terway-hub'] as const;

const cleanups: { what: string; fn: () => Promise<void> | void }[] = [];

export function onCleanup(what: string, fn: () => Promise<void> | void): void {
  cleanups.push({ what, fn });
}

/** Runs every registered clean-up, newest first; a failing one is reported and the rest still run. */
export async function cleanupAll(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    if (process.env.TERWAY_HUB_DEMO_DEBUG === '1') console.error(`   clean-up: ${c.what}`);
    try {
      await c.fn();
    } catch (e) {
      console.error(`   clean-up "${c.what}" failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** The host's nftables tables (`family name`), sorted; empty without `nft`. */
export function nftTables(): string[] {
  const r = run(['nft', 'list', 'tables']);
  if (r.code !== 0) return [];
  return r.stdout.split('\n').map((l) => l.replace(/^table /u, '').trim()).filter((l) => l !== '').sort();
}

/** Leftovers of an earlier, killed demo run (its pods' policy-routing rules included). */
export function removeStale(pods: readonly string[]): void {
  const rules = JSON.parse(run(['ip', '-j', 'rule', 'show']).stdout || '[]') as { priority?: number; src?: string; dst?: string; table?: string }[];
  for (const r of rules) {
    const ip = [r.src, r.dst].find((a) => a !== undefined && /^10\.19[89]\.0\.\d+$/u.test(a));
    if (ip === undefined || r.priority === undefined) continue;
    run(['ip', 'rule', 'del', r.src === ip ? 'from' : 'to', ip, 'priority', String(r.priority), 'lookup', r.table ?? 'main']);
  }
  for (const p of pods) run(['ip', 'netns', 'del', p]);
  run(['ip', 'link', 'del', ENI]);
  run(['ip', 'netns', 'del', VSW]);
  run(['ip', 'addr', 'del', `${NODE_IP}/32`, 'dev', 'lo']);
}

export interface Before {
  readonly host: HostState;
  readonly tables: readonly string[];
  readonly forward: string;
}

export function snapshot(): Before {
  return { host: snapshotHost(), tables: nftTables(), forward: sh(['sysctl', '-n', 'net.ipv4.ip_forward']).trim() };
}

/** The vSwitch namespace and its veth (the "ENI", not in vpc mode), the node address, forwarding on; each undone at clean-up. */
export function setUpNode(before: Before, withEni: boolean): void {
  if (withEni) setUpEni();
  sh(['ip', 'addr', 'add', `${NODE_IP}/32`, 'dev', 'lo']);
  onCleanup('node address', () => { run(['ip', 'addr', 'del', `${NODE_IP}/32`, 'dev', 'lo']); });
  sh(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  onCleanup('ip_forward', () => { run(['sysctl', '-qw', `net.ipv4.ip_forward=${before.forward}`]); });
  // the builtin backend's host table outlives a daemon stop on purpose (a restart must not open the pods); the demo
  // is over at clean-up, so it goes like the rest of the demo's state
  onCleanup('builtin policy table', () => {
    if (!before.tables.includes(BUILTIN_TABLE.join(' ')) && nftTables().includes(BUILTIN_TABLE.join(' '))) run(['nft', 'delete', 'table', ...BUILTIN_TABLE]);
  });
}

function setUpEni(): void {
  sh(['ip', 'netns', 'add', VSW]);
  onCleanup('vSwitch namespace', () => { run(['ip', 'netns', 'del', VSW]); });
  sh(['ip', 'link', 'add', ENI, 'type', 'veth', 'peer', 'name', 'gw0', 'netns', VSW]);
  onCleanup('ENI veth', () => { run(['ip', 'link', 'del', ENI]); });
  sh(['ip', 'link', 'set', ENI, 'up']);
  sh(['sysctl', '-qw', `net.ipv4.conf.${ENI}.proxy_arp=1`, `net.ipv4.conf.${ENI}.rp_filter=0`]);
  sh(['ip', '-n', VSW, 'addr', 'add', `${GATEWAY}/24`, 'dev', 'gw0']);
  sh(['ip', '-n', VSW, 'link', 'set', 'gw0', 'up']);
}

/** What differs from `before` (empty: the host is exactly as it was). */
export function hostDiff(before: Before): string[] {
  const d = diffHost(before.host, snapshotHost());
  const out = [...d.added.map((a) => `added ${a}`), ...d.removed.map((r) => `removed ${r}`)];
  const tables = nftTables();
  if (tables.join('\n') !== before.tables.join('\n')) out.push(`nftables tables before [${before.tables.join(', ')}], after [${tables.join(', ')}]`);
  const forward = run(['sysctl', '-n', 'net.ipv4.ip_forward']).stdout.trim();
  if (forward !== before.forward) out.push(`net.ipv4.ip_forward ${before.forward} → ${forward}`);
  return out;
}
