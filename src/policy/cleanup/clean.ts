/**
 * Removes what stopped backends left on the node (src/policy/residue.ts lists it as data): iptables chains and rules
 * in every family and flavour (./iptables.ts, one `iptables-restore --noflush` per dump), native nftables tables,
 * ipsets, links, tc eBPF programs on the pod veths, files, and the sysctls to restore. An adapter over injected
 * I/O (a command runner, the file system, a sysctl writer): src/main passes the real ones. argv only.
 *
 * Best effort and idempotent: a tool that is not installed holds nothing to clean; a step that fails is reported
 * and the others still run; a second run finds nothing.
 */
import { errorMessage } from '../../lib/errors.js';
import type { CommandRunner } from '../../lib/exec.js';
import type { IpFamily, IptablesBackend, Residue } from '../types.js';
import { planIptablesCleanup } from './iptables.js';

export interface CleanupFs {
  /** rm -rf (absent is success). */
  remove(path: string): Promise<void>;
  /** Entry names of a directory ([] when it does not exist). */
  list(dir: string): Promise<readonly string[]>;
}

export interface CleanupDeps {
  readonly runner: CommandRunner;
  readonly fs: CleanupFs;
  readonly writeSysctl: (key: string, value: string) => Promise<void>;
}

export interface CleanupReport {
  /** What was found and removed, human-readable (`iptables-nft filter/cali-FORWARD`, `link cilium_host`). */
  readonly removed: readonly string[];
  /** Steps that failed, with the tool's message. */
  readonly failures: readonly string[];
}

const SAVE: Readonly<Record<IpFamily, string>> = { ipv4: 'iptables', ipv6: 'ip6tables' };

export async function cleanResidue(residues: readonly Residue[], deps: CleanupDeps): Promise<CleanupReport> {
  const removed: string[] = [];
  const failures: string[] = [];
  const step = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      failures.push(`${what}: ${errorMessage(e)}`);
    }
  };
  const run = async (file: string, args: readonly string[], stdin?: string): Promise<string | undefined> => {
    let out;
    try {
      out = await deps.runner.run({ file, args, ...(stdin !== undefined ? { stdin } : {}) });
    } catch {
      return undefined; // not installed
    }
    if (out.exitCode !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${String(out.exitCode)}: ${out.stderr.trim()}`);
    return out.stdout;
  };
  const ipsetPrefixes = residues.flatMap((r) => r.ipsetPrefixes);

  for (const r of residues) {
    const ipt = r.iptables;
    const cleanIptables = async (family: IpFamily, flavour: IptablesBackend): Promise<void> => {
      const base = `${SAVE[family]}-${flavour}`;
      const dump = await run(`${base}-save`, []);
      if (dump === undefined) return;
      const plan = planIptablesCleanup(dump, { ...ipt, ipsetPrefixes });
      if (plan.script === undefined) return;
      await run(`${base}-restore`, ['-w', '--noflush'], plan.script);
      removed.push(...plan.removed.map((x) => `${base} ${x}`));
      if (ipt.forwardPolicyAccept && plan.filterChains) await run(base, ['-w', '-P', 'FORWARD', 'ACCEPT']);
    };
    for (const family of ipt.families) {
      for (const flavour of ipt.flavours) {
        await step(`${r.backend} ${family} ${flavour} iptables`, () => cleanIptables(family, flavour));
      }
    }
    for (const t of r.nftTables) {
      await step(`${r.backend} nft table ${t.family} ${t.name}`, async () => {
        const listed = await run('nft', ['list', 'tables', t.family]);
        if (listed === undefined || !listed.split('\n').some((l) => l.trim() === `table ${t.family} ${t.name}`)) return;
        await run('nft', ['delete', 'table', t.family, t.name]);
        removed.push(`nft table ${t.family} ${t.name}`);
      });
    }
    const links = await linkNames(run, failures);
    for (const name of r.links.filter((l) => links.includes(l))) {
      await step(`${r.backend} link ${name}`, async () => {
        await run('ip', ['link', 'del', 'dev', name]);
        removed.push(`link ${name}`);
      });
    }
    for (const dev of links.filter((l) => r.tcProgramsOnLinkPrefixes.some((p) => l.startsWith(p)))) {
      await step(`${r.backend} tc programs on ${dev}`, () => cleanTcBpf(dev));
    }
    for (const path of r.paths) await step(`${r.backend} ${path}`, () => removePath(path));
    for (const [key, value] of Object.entries(r.sysctls)) await step(`${r.backend} sysctl ${key}`, () => deps.writeSysctl(key, value));
  }

  // ipsets last: a set is destroyed only once no rule references it
  await step('ipsets', async () => {
    const names = await run('ipset', ['list', '-n']);
    for (const name of (names ?? '').split('\n').map((l) => l.trim()).filter((n) => n !== '' && ipsetPrefixes.some((p) => n.startsWith(p)))) {
      await run('ipset', ['destroy', name]);
      removed.push(`ipset ${name}`);
    }
  });
  return { removed, failures };

  async function cleanTcBpf(dev: string): Promise<void> {
    for (const hook of ['ingress', 'egress'] as const) {
      let text: string | undefined;
      try {
        text = await run('tc', ['-j', 'filter', 'show', 'dev', dev, hook]);
      } catch {
        continue; // no clsact/ingress qdisc on that hook
      }
      const prefs = new Set(bpfPrefs(text ?? '[]'));
      for (const pref of prefs) {
        await run('tc', ['filter', 'del', 'dev', dev, hook, 'pref', String(pref)]);
        removed.push(`tc bpf ${dev} ${hook} pref ${String(pref)}`);
      }
    }
  }

  async function removePath(path: string): Promise<void> {
    if (!path.endsWith('*')) {
      await deps.fs.remove(path);
      return;
    }
    const slash = path.lastIndexOf('/');
    const dir = path.slice(0, slash);
    const prefix = path.slice(slash + 1, -1);
    for (const name of await deps.fs.list(dir)) if (name.startsWith(prefix)) await deps.fs.remove(`${dir}/${name}`);
  }
}

async function linkNames(run: (file: string, args: readonly string[]) => Promise<string | undefined>, failures: string[]): Promise<readonly string[]> {
  try {
    const parsed: unknown = JSON.parse((await run('ip', ['-j', 'link', 'show'])) ?? '[]');
    return Array.isArray(parsed) ? parsed.flatMap((l: unknown) => (typeof l === 'object' && l !== null && typeof (l as { ifname?: unknown }).ifname === 'string' ? [(l as { ifname: string }).ifname] : [])) : [];
  } catch (e) {
    failures.push(`links: ${errorMessage(e)}`);
    return [];
  }
}

/** The prefs of eBPF filters in `tc -j filter show` output. */
export function bpfPrefs(json: string): readonly number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json === '' ? '[]' : json);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.flatMap((f: unknown) => {
    const o = f as { kind?: unknown; pref?: unknown };
    return o.kind === 'bpf' && typeof o.pref === 'number' ? [o.pref] : [];
  });
}
