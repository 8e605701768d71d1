/**
 * The cilium-agent keys the hub renders, as the Helm values that map to them (the chart's cilium-configmap
 * template), validated against the packaged Helm values schemas of the releases they exist for: every Helm path must
 * exist in that release's schema and every value must have its type. A deliberately wrong value must fail.
 */
import { expect, it } from '@jest/globals';
import { agentConfig, type AgentKey } from '../../../src/policy/cilium/agent-config.js';
import { parseRelease } from '../../../src/policy/version.js';
import { validate } from '../../helpers/json-schema.js';
import { describeIf } from '../../helpers/privilege.js';
import { SHARED_SCHEMAS_MISSING, readSharedJson, sharedSchemasPresent } from '../../helpers/shared-schemas.js';
import { TERWAY_IPVLAN, ctx } from './fixtures.js';

type Obj = Record<string, unknown>;

/** The chart's values (nested by the dotted Helm path) for the keys that have one; typed as Helm types them. */
function helmValues(keys: readonly AgentKey[]): Obj {
  const out: Obj = {};
  for (const k of keys) {
    if (k.helm === undefined) continue;
    const parts = k.helm.split('.');
    let cur = out;
    for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Obj;
    cur[parts.at(-1) ?? ''] = k.value;
  }
  return out;
}

/** Helm paths missing from the schema's properties (a value the chart of that release does not have). */
function unknownPaths(schema: unknown, keys: readonly AgentKey[]): string[] {
  return keys.flatMap((k) => {
    if (k.helm === undefined) return [];
    let node = schema as Obj | undefined;
    for (const p of k.helm.split('.')) node = (node?.properties as Obj | undefined)?.[p] as Obj | undefined;
    return node === undefined ? [k.helm] : [];
  });
}

const release = (v: string) => {
  const r = parseRelease(v);
  if (r === undefined) throw new Error(v);
  return r;
};

describeIf(sharedSchemasPresent(), SHARED_SCHEMAS_MISSING)('cilium agent config against the Helm values schemas', () => {
  const cases = [
    { schema: 'cilium/helm-values.schema.v1.18.10.json', version: '1.18.10' },
    { schema: 'cilium/helm-values.schema.v1.19.6.json', version: '1.19.6' },
  ];
  for (const c of cases) {
    it(`${c.version}: every Helm path exists and every value has its type (veth and dual-stack contexts)`, () => {
      const schema = readSharedJson(c.schema);
      for (const context of [ctx({ mode: 'veth-policy-routing' }), ctx({ mode: 'vpc', ipStack: 'dual', kubeconfig: '/etc/kubernetes/kubelet.conf' })]) {
        const keys = agentConfig(context, release(c.version));
        expect(keys.filter((k) => k.helm !== undefined).length).toBeGreaterThan(15);
        expect(unknownPaths(schema, keys)).toEqual([]);
        expect(validate(schema, helmValues(keys))).toEqual([]);
      }
    });
  }

  it('a deliberately wrong value or a path the chart does not have fails', () => {
    const schema = readSharedJson('cilium/helm-values.schema.v1.18.10.json');
    const keys = agentConfig(ctx({ mode: 'veth-policy-routing' }), release('1.18.10'));
    const wrong = keys.map((k) => (k.key === 'agent-health-port' ? { ...k, value: 'ninety' } : k));
    expect(validate(schema, helmValues(wrong)).join('\n')).toMatch(/healthPort/u);
    expect(unknownPaths(schema, [{ key: 'tunnel', helm: 'tunnel', value: 'disabled' }])).toEqual(['tunnel']); // removed in 1.15
  });

  it('the terway-chainer (1.12) config is outside the packaged schemas: its gates are versionGateProblems (cilium-none-matrix)', () => {
    const keys = agentConfig(ctx({ mode: 'ipvlan', cilium: TERWAY_IPVLAN, networkName: 'terway-chainer' }), release('1.12.7'));
    expect(keys.find((k) => k.key === 'tunnel')?.value).toBe('disabled');
    expect(keys.some((k) => k.key === 'datapath-mode')).toBe(false);
  });
});
