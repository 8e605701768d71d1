/** The cilium and none renderers, and the refusal matrix (mode × backend × build × version) of every backend. */
import { describe, expect, it } from '@jest/globals';
import { chooseBackend } from '../../../src/policy/choose.js';
import { policyBackend } from '../../../src/policy/registry.js';
import type { PolicyBackendName, PolicyMode } from '../../../src/policy/types.js';
import { describeIf } from '../../helpers/privilege.js';
import { validate } from '../../helpers/json-schema.js';
import { SHARED_SCHEMAS_MISSING, readSharedJson, sharedSchemasPresent } from '../../helpers/shared-schemas.js';
import { CILIUM, TERWAY_IPVLAN, ctx, type CtxOverrides } from './fixtures.js';
import { expectGolden, json } from './golden.js';

const cilium = policyBackend('cilium');
const none = policyBackend('none');

describe('cilium renderer', () => {
  it('generic-veth on a veth mode: the chain entry, the agent config dir and the process (golden)', () => {
    const c = ctx({ mode: 'veth-policy-routing' });
    expect(cilium.check(c)).toEqual([]);
    expectGolden('cilium-1.18-generic-veth/chain.json', json(cilium.cniChainEntries(c)));
    expectGolden('cilium-1.18-generic-veth/files.json', json(cilium.renderFiles(c)));
    expectGolden('cilium-1.18-generic-veth/process.json', json(cilium.process(c)));
    const p = cilium.process(c);
    expect(p?.readiness).toEqual({ host: '127.0.0.1', port: CILIUM.healthPort, path: '/healthz', headers: { brief: 'true' } });
    expect(p?.liveness.headers).toEqual({ brief: 'true', 'require-k8s-connectivity': 'false' });
  });
  it('a terway-chainer build on ipvlan (golden)', () => {
    const c = ctx({ mode: 'ipvlan', cilium: TERWAY_IPVLAN, networkName: 'terway-chainer' });
    expect(cilium.check(c)).toEqual([]);
    expectGolden('cilium-1.12-terway-chainer-ipvlan/chain.json', json(cilium.cniChainEntries(c)));
    expectGolden('cilium-1.12-terway-chainer-ipvlan/files.json', json(cilium.renderFiles(c)));
  });
});

describeIf(sharedSchemasPresent(), SHARED_SCHEMAS_MISSING)('cilium chain entry against shared/schemas/cilium', () => {
  const schema = readSharedJson('cilium/cilium-cni-netconf.schema.json');
  it('the rendered entry (with the name libcni injects) validates; a deliberately invalid one does not', () => {
    for (const c of [ctx({ mode: 'veth-policy-routing' }), ctx({ mode: 'ipvlan', cilium: TERWAY_IPVLAN, networkName: 'terway-chainer' })]) {
      for (const entry of cilium.cniChainEntries(c)) {
        expect(validate(schema, { cniVersion: '1.0.0', name: c.networkName, ...entry })).toEqual([]);
      }
    }
    const [entry] = cilium.cniChainEntries(ctx());
    expect(validate(schema, { cniVersion: '1.0.0', name: 'terway-hub', ...entry, 'enable-debug': 'yes' }).length).toBeGreaterThan(0);
  });
});

describe('none', () => {
  it('runs nothing, renders nothing, cleans every other backend, answers the probe port', () => {
    const c = ctx();
    expect([none.check(c), none.renderFiles(c), none.process(c), none.cniChainEntries(c)]).toEqual([[], [], undefined, []]);
    expect(none.residue(c).map((r) => r.backend)).toEqual(['felix', 'cilium', 'builtin']);
    expect(none.healthResponder(c)).toEqual({ host: '127.0.0.1', port: c.settings.felix.healthPort, paths: ['/liveness', '/readiness', '/healthz'], body: 'OK\n' });
  });
});

interface Row {
  readonly mode: PolicyMode;
  readonly backend: PolicyBackendName;
  readonly o?: CtxOverrides;
  /** A setting left unset. */
  readonly without?: 'felix.binary' | 'cilium.buildVersion';
  /** undefined: accepted; else a pattern every refusal list must contain. */
  readonly refused?: RegExp;
}

const MATRIX: readonly Row[] = [
  { mode: 'vpc', backend: 'felix' },
  { mode: 'veth-policy-routing', backend: 'felix' },
  { mode: 'ipvlan', backend: 'felix', refused: /felix cannot enforce NetworkPolicy in ipvlan mode/u },
  { mode: 'eni', backend: 'felix', refused: /felix cannot enforce NetworkPolicy in eni mode/u },
  { mode: 'veth-policy-routing', backend: 'felix', o: { felix: { version: 'v2.6.0' } }, refused: /policy\.felix\.version/u },
  { mode: 'veth-policy-routing', backend: 'felix', without: 'felix.binary', refused: /policy\.felix\.binary is not set/u },
  { mode: 'vpc', backend: 'cilium' },
  { mode: 'veth-policy-routing', backend: 'cilium' },
  { mode: 'ipvlan', backend: 'cilium', refused: /build upstream cannot chain on ipvlan pods/u },
  { mode: 'ipvlan', backend: 'cilium', o: { cilium: TERWAY_IPVLAN, networkName: 'terway-chainer' } },
  { mode: 'ipvlan', backend: 'cilium', o: { cilium: { ...TERWAY_IPVLAN, version: '1.16.0', buildVersion: 'v1.16.0-terway' } }, refused: /cannot chain on ipvlan pods/u },
  { mode: 'ipvlan', backend: 'cilium', o: { cilium: TERWAY_IPVLAN, networkName: 'terway-chainer' }, without: 'cilium.buildVersion', refused: /buildVersion is not set/u },
  { mode: 'eni', backend: 'cilium', refused: /cilium cannot enforce NetworkPolicy in eni mode/u },
  { mode: 'veth-policy-routing', backend: 'cilium', o: { cilium: { version: '1.9.0' } }, refused: /policy\.cilium\.version "1\.9\.0" is not supported/u },
  { mode: 'veth-policy-routing', backend: 'cilium', o: { cilium: { version: '1.20.0' } }, refused: /is not supported/u },
  { mode: 'veth-policy-routing', backend: 'cilium', o: { cilium: { version: '1.13.0' } }, refused: /cilium-cni before 1\.14 picks its chainer by the network name/u },
  { mode: 'vpc', backend: 'none' },
  { mode: 'ipvlan', backend: 'none' },
  { mode: 'eni', backend: 'none' },
  { mode: 'vpc', backend: 'builtin' },
  { mode: 'veth-policy-routing', backend: 'builtin' },
  { mode: 'ipvlan', backend: 'builtin' },
  { mode: 'eni', backend: 'builtin' },
];

describe('refusal matrix (mode × backend × build × version)', () => {
  it.each(MATRIX.map((r) => [`${r.backend} on ${r.mode}${r.o !== undefined ? ` ${JSON.stringify(r.o)}` : ''}`, r] as const))('%s', (_n, r) => {
    const c = ctx({ ...r.o, mode: r.mode });
    const felixWithout = Object.fromEntries(Object.entries(c.settings.felix).filter(([k]) => k !== 'binary')) as typeof c.settings.felix;
    const ciliumWithout = Object.fromEntries(Object.entries(c.settings.cilium).filter(([k]) => k !== 'buildVersion')) as typeof c.settings.cilium;
    const settings =
      r.without === 'felix.binary' ? { ...c.settings, felix: felixWithout } : r.without === 'cilium.buildVersion' ? { ...c.settings, cilium: ciliumWithout } : c.settings;
    const problems = policyBackend(r.backend).check({ ...c, settings });
    if (r.refused === undefined) expect(problems).toEqual([]);
    else expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(r.refused)]));
  });
  it('auto picks felix for veth modes, cilium for ipvlan, builtin where neither fits; disable_network_policy wins', () => {
    const s = ctx().settings;
    expect(chooseBackend('auto', 'vpc', s, false).name).toBe('felix');
    expect(chooseBackend('auto', 'ipvlan', s, false).name).toBe('cilium');
    expect(chooseBackend('auto', 'eni', s, false)).toMatchObject({ name: 'builtin', warnings: [] });
    const bare = { felix: { healthPort: 9099 }, cilium: { cniBinary: 'cilium-cni', build: 'upstream', healthPort: 9879, chainingMode: 'generic-veth' } } as const;
    for (const mode of ['vpc', 'veth-policy-routing', 'ipvlan'] as const) expect(chooseBackend('auto', mode, bare, false)).toMatchObject({ name: 'builtin', warnings: [] });
    expect(chooseBackend('builtin', 'eni', s, true).name).toBe('none');
    expect(chooseBackend('felix', 'vpc', s, true)).toMatchObject({ name: 'none', warnings: [expect.stringMatching(/disable_network_policy/u), expect.stringMatching(/overridden/u)] });
  });
  it('auto falls back to none, loudly, where nftables is unusable; an explicit builtin is refused there; Felix/Cilium are unaffected', () => {
    const s = ctx().settings;
    const bare = { felix: { healthPort: 9099 }, cilium: { cniBinary: 'cilium-cni', build: 'upstream', healthPort: 9879, chainingMode: 'generic-veth' } } as const;
    const problem = 'nft list tables failed (exit 1): mnl.c:60: Unable to initialize Netlink socket: Protocol not supported';
    for (const mode of ['vpc', 'veth-policy-routing', 'ipvlan', 'eni'] as const) {
      expect(chooseBackend('auto', mode, bare, false, problem)).toMatchObject({ name: 'none', warnings: [expect.stringContaining('NOT enforced')] });
      expect(chooseBackend('auto', mode, bare, false, problem).warnings[0]).toContain('Protocol not supported');
    }
    expect(chooseBackend('auto', 'vpc', s, false, problem).name).toBe('felix');
    expect(chooseBackend('builtin', 'vpc', s, false, problem).name).toBe('builtin');
    expect(policyBackend('builtin').check({ ...ctx(), node: { iptablesBackend: 'nft', nftablesProblem: problem } })).toEqual([expect.stringContaining('nftables is not usable on this node')]);
    expect(policyBackend('builtin').check({ ...ctx(), node: { iptablesBackend: 'nft' } })).toEqual([]);
  });
});
