/** Gauges of the live NetworkPolicy model, read at scrape time: objects in it by kind, objects it refused. */
import { Gauge, type Registry } from 'prom-client';
import type { PolicyModelSource } from './live-model.js';

export function registerPolicyModelMetrics(registry: Registry, prefix: string, source: PolicyModelSource): void {
  new Gauge({
    name: `${prefix}policy_model_objects`,
    help: 'Objects in the live NetworkPolicy model by kind (this node\'s pods and Node, the cluster\'s NetworkPolicies and Namespaces).',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect(this: Gauge<'kind'>) {
      const counts = new Map<string, number>([['Pod', 0], ['Node', 0], ['Namespace', 0], ['NetworkPolicy', 0]]);
      for (const o of source.objects()) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
      for (const [kind, n] of counts) this.set({ kind }, n);
    },
  });
  new Gauge({
    name: `${prefix}policy_model_refused`,
    help: 'Objects the live NetworkPolicy model refused (left out; a NetworkPolicyObjectRefused node event names each).',
    registers: [registry],
    collect(this: Gauge) {
      this.set(source.refused().length);
    },
  });
}
