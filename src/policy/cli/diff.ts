/**
 * Pure what-if: the live model with a file's objects applied on top (its Namespaces, Pods and NetworkPolicies
 * replace same-named ones; a namespace the file only implies keeps its live labels), and the pod pairs and ports
 * whose verdict changes between the two.
 */
import { buildModel } from '../model/build.js';
import { matrix, type PortProto } from '../model/matrix.js';
import { podKey, type Namespace, type Node, type PolicyModel } from '../model/types.js';

export function overlayModel(base: PolicyModel, top: PolicyModel): PolicyModel {
  const namespaces = new Map<string, Namespace>(base.namespaces);
  for (const ns of top.namespaces.values()) if (!ns.synthesized || !namespaces.has(ns.name)) namespaces.set(ns.name, ns);
  const pods = new Map(base.pods.map((p) => [podKey(p), p]));
  for (const p of top.pods) pods.set(podKey(p), p);
  const policies = new Map(base.policies.map((p) => [podKey(p), p]));
  for (const p of top.policies) policies.set(podKey(p), p);
  const nodes: Node[] = [...base.nodes.values(), ...top.nodes.values()];
  return buildModel({ namespaces: [...namespaces.values()], pods: [...pods.values()], policies: [...policies.values()], nodes });
}

export interface MatrixDiff {
  /** Matrix keys (`SRC->DST:PORT/PROTO`) allowed before and denied after. */
  readonly allowedToDenied: readonly string[];
  readonly deniedToAllowed: readonly string[];
  /** Pairs judged in both models. */
  readonly compared: number;
  /** Pairs only one side has (a pod the file adds, or one without a counterpart). */
  readonly onlyBefore: number;
  readonly onlyAfter: number;
}

export function diffMatrices(before: Readonly<Record<string, boolean>>, after: Readonly<Record<string, boolean>>): MatrixDiff {
  const allowedToDenied: string[] = [];
  const deniedToAllowed: string[] = [];
  let compared = 0;
  let onlyBefore = 0;
  for (const [key, was] of Object.entries(before)) {
    const now = after[key];
    if (now === undefined) {
      onlyBefore++;
      continue;
    }
    compared++;
    if (was && !now) allowedToDenied.push(key);
    else if (!was && now) deniedToAllowed.push(key);
  }
  const onlyAfter = Object.keys(after).filter((k) => before[k] === undefined).length;
  return { allowedToDenied, deniedToAllowed, compared, onlyBefore, onlyAfter };
}

export function diffModels(before: PolicyModel, after: PolicyModel, ports: readonly PortProto[]): MatrixDiff {
  return diffMatrices(matrix(before, ports), matrix(after, ports));
}

export function formatDiff(d: MatrixDiff): string {
  const changes = d.allowedToDenied.length + d.deniedToAllowed.length;
  const lines = [`${String(changes)} change${changes === 1 ? '' : 's'} over ${String(d.compared)} pod pair/port combinations`];
  if (d.onlyAfter > 0 || d.onlyBefore > 0) lines.push(`(${String(d.onlyAfter)} only with the new objects, ${String(d.onlyBefore)} only without: not compared)`);
  const section = (title: string, keys: readonly string[]): void => {
    if (keys.length === 0) return;
    lines.push(`${title}:`, ...keys.map((k) => `  ${k}`));
  };
  section('allowed -> denied', d.allowedToDenied);
  section('denied -> allowed', d.deniedToAllowed);
  return `${lines.join('\n')}\n`;
}
