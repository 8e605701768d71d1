/**
 * Pure: what a cluster config would make the daemon write on one node — the conflist and the NetworkPolicy
 * backend's files — computed as the daemon does (effectiveConfig, planConflist/renderConflist, resolvePolicy) but
 * without the node: the chained plugins are not asked for their CNI versions (each is taken to support every version
 * the hub offers, said in `notes`), and the node facts (iptables backend, nftables) are given. A refused config
 * throws the ConfigError naming its field, as the daemon would reject it.
 */
import { join } from 'node:path';
import type { DaemonConfig } from '../config/daemon-config.js';
import { ConfigError } from '../lib/errors.js';
import type { ConfigMapInfo, NodeInfo } from '../k8s/types.js';
import type { IptablesBackend } from '../policy/types.js';
import { resolvePolicy } from '../policy/resolve.js';
import { chainTypes, planConflist, type PluginVersions } from '../templates/chain-plan.js';
import { renderConflist } from '../templates/render.js';
import { effectiveConfig, type NodeRefusal } from './k8s/effective-config.js';
import { policyInputOf } from './policy/input.js';

/** The Node field a refusal is about. */
const REFUSAL_FIELD: Readonly<Record<NodeRefusal['reason'], string>> = { NoPodCIDR: 'node.spec.podCIDR' };

export interface RenderInputs {
  readonly local: DaemonConfig;
  readonly configMaps: readonly ConfigMapInfo[];
  readonly node: NodeInfo | undefined;
  readonly iptablesBackend: IptablesBackend;
}

export interface RenderedNodeFile {
  readonly path: string;
  readonly mode: number;
  readonly content: string;
}

export interface NodeRender {
  readonly source: string;
  readonly mode: string;
  readonly nodeName: string;
  readonly conflist: RenderedNodeFile;
  readonly policy: { readonly backend: string; readonly why: string; readonly warnings: readonly string[]; readonly files: readonly RenderedNodeFile[]; readonly process: readonly string[] | undefined };
  readonly notes: readonly string[];
}

export function renderNode(inp: RenderInputs): NodeRender {
  const byKey = new Map(inp.configMaps.map((c) => [`${c.namespace === '' ? inp.local.kubeNamespace : c.namespace}/${c.name}`, c]));
  const res = effectiveConfig({ local: inp.local, node: inp.node, configMap: (ns, name) => byKey.get(`${ns}/${name}`) });
  if (!res.ok) {
    if ('error' in res) throw res.error;
    // the daemon would serve nothing on this Node (and say so in a node event) until the Node changes
    throw new ConfigError(REFUSAL_FIELD[res.refusal.reason], `${res.refusal.reason}: ${res.refusal.message}${inp.node === undefined ? ' (give the Node with --node)' : ''}`);
  }
  const { daemon: cfg, cluster, chain, source } = res.config;
  const notes: string[] = [];
  const versions = new Map<string, PluginVersions>();
  for (const t of chainTypes(chain.items)) {
    versions.set(t, { ok: true, binary: t, supported: cfg.cniVersions });
    notes.push(`chained plugin ${JSON.stringify(t)}: its CNI versions are not asked here (the daemon asks its binary); taken to support [${cfg.cniVersions.join(', ')}]`);
  }
  const nodeName = inp.node?.name ?? 'NODE';
  if (inp.node === undefined) notes.push('no --node given: rendered without the Node object (no podCIDR, no node override label, no max pods)');
  const decision = resolvePolicy(policyInputOf(cfg, cluster, { nodeName, kube: { namespace: cfg.kubeNamespace }, node: { iptablesBackend: inp.iptablesBackend } }));
  const plan = planConflist(cfg, chain, versions);
  const withPolicy = decision.chainEntries.length === 0 ? plan.context : { ...plan.context, chain: [...plan.context.chain, ...decision.chainEntries] };
  if (decision.chainEntries.length > 0) notes.push(`the policy backend's chain entries are appended only once ${decision.backend} is ready`);
  return {
    source,
    mode: cfg.mode,
    nodeName,
    conflist: { path: join(cfg.cniConfDir, cfg.conflistName), mode: 0o644, content: renderConflist(withPolicy) },
    policy: {
      backend: decision.backend,
      why: decision.why,
      warnings: decision.warnings,
      files: decision.files.map((f) => ({ path: f.path, mode: f.mode, content: f.content })),
      process: decision.process?.argv,
    },
    notes,
  };
}

/** The text output: each file under a `# path (mode)` header, then the notes. */
export function formatNodeRender(r: NodeRender): string {
  const file = (f: RenderedNodeFile): string => `# ${f.path} (${f.mode.toString(8).padStart(4, '0')})\n${f.content.endsWith('\n') ? f.content : `${f.content}\n`}`;
  const p = r.policy;
  return [
    `# config: ${r.source}; node ${r.nodeName}; mode ${r.mode}; policy backend ${p.backend} (${p.why})`,
    ...p.warnings.map((w) => `# warning: ${w}`),
    file(r.conflist),
    ...p.files.map(file),
    ...(p.process !== undefined ? [`# policy process: ${p.process.join(' ')}`] : []),
    ...r.notes.map((n) => `# note: ${n}`),
    '',
  ].join('\n');
}
