/**
 * `terway-hub render -f CONFIGMAP.yaml [-f ...] [--node NODE.yaml] [--config FILE] [--iptables nft|legacy] [--json]`: the
 * conflist and policy backend files the ConfigMaps would make the daemon write on this node (src/daemon/render-node.ts),
 * printed, nothing written. The -f files (one or more) hold the `eni-config` ConfigMap (and any node override ConfigMap); a
 * `config.yaml` ConfigMap in it (the daemon's own) is the local config unless --config is given.
 * Exit codes: 0 rendered; 1 the config is refused (the ConfigError names the field); 2 bad flags or unreadable files.
 */
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { decodeConfigText, loadDaemonConfig } from '../../config/load.js';
import { parseDaemonConfig } from '../../config/daemon-config.js';
import { ConfigError, InvalidInputError, errorMessage } from '../../lib/errors.js';
import { toConfigMapInfo, toNodeInfo } from '../../k8s/map.js';
import type { ConfigMapInfo } from '../../k8s/types.js';
import { formatNodeRender, renderNode } from '../../daemon/render-node.js';
import { processTextIo, type TextIo } from '../text-io.js';

export const RENDER_USAGE = 'render   -f CONFIGMAP.yaml [-f ...] [--node NODE.yaml] [--config FILE] [--iptables nft|legacy] [--json]   the conflist and policy files a ConfigMap would produce here (writes nothing; exit 1: refused)';
/** The local config's podCIDR when none is given (a cluster config in VPC mode takes the Node's). */
const FALLBACK_POD_CIDR = '10.88.0.0/24';
export const RENDER_EXIT = { ok: 0, refused: 1, usage: 2 } as const;

export type RenderIo = TextIo;

/** Every object of a (multi-document, or `kind: List`) YAML/JSON text. */
export function objectsOf(text: string, source: string): unknown[] {
  const out: unknown[] = [];
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length > 0) throw new InvalidInputError(source, d.errors.map((e) => e.message).join('; '));
    const v: unknown = d.toJS();
    if (typeof v !== 'object' || v === null) continue;
    const items = (v as { kind?: unknown; items?: unknown }).kind === 'List' ? (v as { items?: unknown }).items : undefined;
    if (Array.isArray(items)) out.push(...(items as unknown[]));
    else out.push(v);
  }
  return out;
}

function kindOf(o: unknown): string | undefined {
  const k = typeof o === 'object' && o !== null ? (o as { kind?: unknown }).kind : undefined;
  return typeof k === 'string' ? k : undefined;
}

async function read(io: RenderIo, path: string, flag: string): Promise<string> {
  try {
    return await io.readText(path);
  } catch (e) {
    throw new InvalidInputError(flag, `cannot read ${path}: ${errorMessage(e)}`);
  }
}

export async function runRender(argv: readonly string[], io: RenderIo): Promise<number> {
  let code: number = RENDER_EXIT.usage;
  try {
    const { values } = parseArgs({ args: [...argv], options: { file: { type: 'string', short: 'f', multiple: true }, node: { type: 'string' }, config: { type: 'string' }, iptables: { type: 'string' }, json: { type: 'boolean' } } });
    const files = values.file ?? [];
    if (files.length === 0) throw new InvalidInputError('-f', 'give the ConfigMap file (-f CONFIGMAP.yaml)');
    const ipt = values.iptables ?? 'nft';
    if (ipt !== 'nft' && ipt !== 'legacy') throw new InvalidInputError('--iptables', `nft or legacy, not ${JSON.stringify(ipt)}`);
    const objects: unknown[] = [];
    for (const f of files) objects.push(...objectsOf(await read(io, f, '-f'), f));
    const configMaps = objects.filter((o) => kindOf(o) === 'ConfigMap').map(toConfigMapInfo).filter((c): c is ConfigMapInfo => c !== undefined);
    if (configMaps.length === 0) throw new InvalidInputError('-f', `${files.join(', ')}: no ConfigMap in it`);
    let node;
    if (values.node !== undefined) {
      node = objectsOf(await read(io, values.node, '--node'), values.node).filter((o) => kindOf(o) === 'Node').map(toNodeInfo)[0];
      if (node === undefined) throw new InvalidInputError('--node', `${values.node}: no Node object in it`);
    }
    code = RENDER_EXIT.refused; // from here a failure is the config's
    const own = configMaps.find((c) => c.data['config.yaml'] !== undefined);
    if (values.config === undefined && own === undefined) io.err(`note: no daemon config (--config, or a ConfigMap with config.yaml in -f): its defaults are used, with the fallback vpc.podCIDR ${FALLBACK_POD_CIDR}\n`);
    const local =
      values.config !== undefined
        ? await loadDaemonConfig(values.config)
        : parseDaemonConfig(own === undefined ? { vpc: { podCIDR: FALLBACK_POD_CIDR } } : decodeConfigText(own.data['config.yaml'] ?? '', `${own.namespace}/${own.name} config.yaml`));
    const r = renderNode({ local, configMaps, node, iptablesBackend: ipt });
    io.out(values.json === true ? `${JSON.stringify({ ok: true, ...r })}\n` : formatNodeRender(r));
    return RENDER_EXIT.ok;
  } catch (e) {
    if (e instanceof ConfigError) {
      io.out(wantsJson(argv) ? `${JSON.stringify({ ok: false, field: e.path, error: e.message })}\n` : '');
      io.err(`refused: ${e.message}\n`);
      return RENDER_EXIT.refused;
    }
    if (e instanceof InvalidInputError || code === RENDER_EXIT.usage) {
      io.err(`error: ${errorMessage(e)}\nusage: terway-hub ${RENDER_USAGE}\n`);
      return RENDER_EXIT.usage;
    }
    throw e;
  }
}

function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

export const processRenderIo: RenderIo = processTextIo;
