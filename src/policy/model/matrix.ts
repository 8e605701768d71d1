/**
 * Reachability over every ordered pair of distinct pods, per port: `"SRCNS/SRCPOD->DSTNS/DSTPOD:PORT/PROTO"` →
 * allowed. Order: source pod, destination pod (both by namespace/name), then the ports as given.
 */
import { createEvaluator } from './decide.js';
import { podKey, type PolicyModel, type Protocol } from './types.js';

export interface PortProto {
  readonly port: number;
  readonly protocol: Protocol;
}

export function matrixKey(src: string, dst: string, p: PortProto): string {
  return `${src}->${dst}:${String(p.port)}/${p.protocol}`;
}

export function matrix(model: PolicyModel, ports: readonly PortProto[]): Readonly<Record<string, boolean>> {
  const out: Record<string, boolean> = {};
  const evaluator = createEvaluator(model);
  for (const src of model.pods) {
    for (const dst of model.pods) {
      if (src === dst) continue;
      for (const p of ports) {
        out[matrixKey(podKey(src), podKey(dst), p)] = evaluator.decide({ pod: podKey(src) }, { pod: podKey(dst) }, p.port, p.protocol).allowed;
      }
    }
  }
  return out;
}
