import { describe, expect, it } from '@jest/globals';
import { felixBackend } from '../../../src/policy/felix/backend.js';
import { FELIX_PARAMS, envValueProblem, felixEnvName, felixParam, yamlValueProblem } from '../../../src/policy/felix/params.js';
import { felixEnv } from '../../../src/policy/felix/render.js';
import { parseRelease } from '../../../src/policy/version.js';
import { envAccepts, felixEnvProblems, felixJsonParams } from '../../helpers/felix-params.js';
import { validate } from '../../helpers/json-schema.js';
import { describeIf } from '../../helpers/privilege.js';
import { SHARED_SCHEMAS_MISSING, readSharedYaml, sharedSchemasPresent } from '../../helpers/shared-schemas.js';
import { ctx } from './fixtures.js';
import { expectGolden, json } from './golden.js';

/** Two ends of the supported range, both iptables flavours and both stacks. */
const CASES = {
  'felix-v3.24-legacy-ipv4': ctx({ felix: { version: 'v3.24.5' }, iptables: 'legacy' }),
  'felix-v3.32-nft-dual': ctx({
    mode: 'vpc',
    felix: { version: '3.32.1', healthPort: 9199, felixConfiguration: { prometheusMetricsEnabled: true, prometheusMetricsPort: 9091, iptablesFilterDenyAction: 'Reject' } },
    ipStack: 'dual',
    kubeconfig: '/etc/kubernetes/kubelet.conf',
  }),
} as const;

describe('felix renderer (golden)', () => {
  it.each(Object.entries(CASES))('%s: every artefact matches its golden file', (name, c) => {
    expect(felixBackend.check(c)).toEqual([]);
    const files = felixBackend.renderFiles(c);
    expect(files.map((f) => f.path)).toEqual(['/var/lib/terway-hub/policy/felix/felix.cfg']);
    expectGolden(`${name}/felix.cfg`, files[0]!.content);
    expectGolden(`${name}/process.json`, json(felixBackend.process(c)));
    expectGolden(`${name}/kube-objects.json`, json(felixBackend.kubeObjects(c)));
    expectGolden(`${name}/residue.json`, json(felixBackend.residue(c)));
    expect(felixBackend.cniChainEntries(c)).toEqual([]);
    expect(felixBackend.healthResponder(c)).toBeUndefined();
  });

  it('pins the checklist values in the environment', () => {
    const env = felixBackend.process(CASES['felix-v3.32-nft-dual'])!.env;
    expect(env).toMatchObject({
      FELIX_INTERFACEPREFIX: 'cali',
      FELIX_FELIXHOSTNAME: 'node-1.example',
      FELIX_HEALTHENABLED: 'true',
      FELIX_HEALTHHOST: '127.0.0.1',
      FELIX_HEALTHPORT: '9199',
      FELIX_IPTABLESBACKEND: 'NFT',
      FELIX_ROUTESYNCDISABLED: 'true',
      FELIX_USAGEREPORTINGENABLED: 'false',
      FELIX_IPV6SUPPORT: 'true',
      FELIX_DEFAULTENDPOINTTOHOSTACTION: 'ACCEPT',
      FELIX_NFTABLESMODE: 'Disabled',
      CALICO_API_GROUP: 'crd.projectcalico.org/v1',
      KUBECONFIG: '/etc/kubernetes/kubelet.conf',
    });
    const old = felixBackend.process(CASES['felix-v3.24-legacy-ipv4'])!.env;
    expect(old.FELIX_IPTABLESBACKEND).toBe('Legacy');
    expect(old.FELIX_IPV6SUPPORT).toBe('false');
    // version gates: NFTablesMode ≥ 3.29, EndpointStatusPathPrefix ≥ 3.28, CALICO_API_GROUP ≥ 3.32
    expect(Object.keys(old)).not.toEqual(expect.arrayContaining(['FELIX_NFTABLESMODE']));
    expect(old.FELIX_ENDPOINTSTATUSPATHPREFIX).toBeUndefined();
    expect(old.CALICO_API_GROUP).toBeUndefined();
  });

  it('the process: liveness and readiness on 127.0.0.1:port, exit 129 restarts at once', () => {
    const p = felixBackend.process(CASES['felix-v3.24-legacy-ipv4'])!;
    expect(p.liveness).toEqual({ host: '127.0.0.1', port: 9099, path: '/liveness' });
    expect(p.readiness).toEqual({ host: '127.0.0.1', port: 9099, path: '/readiness' });
    expect(p.restartNowExitCodes).toEqual([129]);
    expect(p.argv).toEqual(['/opt/calico/bin/calico-felix', '--config-file=/var/lib/terway-hub/policy/felix/felix.cfg']);
  });

  it('felix.cfg mirrors every FELIX_* value of the environment', () => {
    for (const c of Object.values(CASES)) {
      const env = felixBackend.process(c)!.env;
      const cfg = felixBackend.renderFiles(c)[0]!.content;
      const fromCfg = Object.fromEntries(cfg.split('\n').filter((l) => l.includes(' = ')).map((l) => l.split(' = ') as [string, string]).map(([k, v]) => [`FELIX_${k.toUpperCase()}`, v]));
      expect(fromCfg).toEqual(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('FELIX_'))));
    }
  });

  it('refuses a value outside the table at render time', () => {
    const bad = ctx({ felix: { version: 'v3.28.0' } });
    expect(() => felixEnv({ ...bad, nodeName: 'Node_1 !' }, parseRelease('3.28.0')!)).toThrow(/FELIX_FELIXHOSTNAME.*FelixHostname must match/u);
    expect(() => felixEnv({ ...bad, vethPrefix: 'ca li' }, parseRelease('3.28.0')!)).toThrow(/InterfacePrefix/u);
  });
});

describe('felix FelixConfiguration fields (check)', () => {
  it('names each field it cannot pass on', () => {
    const c = ctx({ felix: { felixConfiguration: { interfacePrefix: 'eni', prometheusMetricsPort: 70000, nftablesMode: 'Disabled', frobnicate: true, iptablesFilterDenyAction: 'reject' } } });
    expect(felixBackend.check(c)).toEqual([
      'policy.felix.felixConfiguration.interfacePrefix is set by the hub through FELIX_INTERFACEPREFIX, which wins over FelixConfiguration; remove it',
      'policy.felix.felixConfiguration.prometheusMetricsPort: prometheusMetricsPort must be an integer in [0,65535]; got 70000',
      'policy.felix.felixConfiguration.nftablesMode needs Felix 3.29 or later; policy.felix.version is 3.28',
      expect.stringMatching(/^policy\.felix\.felixConfiguration\.frobnicate is not a field the hub can check \(it accepts: .*prometheusMetricsPort/u),
      'policy.felix.felixConfiguration.iptablesFilterDenyAction: iptablesFilterDenyAction must be one of Drop, Reject; got "reject"',
    ]);
    expect(() => felixBackend.kubeObjects(c)).toThrow(/^policy\.felix\.felixConfiguration: /u);
  });
});

describeIf(sharedSchemasPresent(), SHARED_SCHEMAS_MISSING)('felix outputs against shared/schemas/calico', () => {
  const params = felixJsonParams();
  const crd = readSharedYaml('calico/crd.projectcalico.org_felixconfigurations.yaml') as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: unknown } }[] };
  };
  const crdSchema = crd.spec.versions.find((v) => v.name === 'v1')!.schema.openAPIV3Schema;

  it('every rendered FELIX_* value is accepted by felix-config-params.json', () => {
    for (const c of Object.values(CASES)) expect(felixEnvProblems(felixBackend.process(c)!.env)).toEqual([]);
  });

  it('a deliberately invalid value is refused by the checker', () => {
    const env = { ...felixBackend.process(CASES['felix-v3.24-legacy-ipv4'])!.env };
    expect(felixEnvProblems({ ...env, FELIX_IPTABLESBACKEND: 'iptables-nft' })).toEqual([expect.stringMatching(/^FELIX_IPTABLESBACKEND=iptables-nft: refused/u)]);
    expect(felixEnvProblems({ ...env, FELIX_INTERFACEPREFIX: 'cali!' })).toHaveLength(1);
    expect(felixEnvProblems({ ...env, FELIX_CHAININSERTMODE: 'none' })).toHaveLength(1); // Required: no "none"
    expect(felixEnvProblems({ ...env, FELIX_HEALTHPORT: '65536' })).toHaveLength(1);
    expect(felixEnvProblems({ ...env, FELIX_NOSUCHTHING: '1' })).toEqual(['FELIX_NOSUCHTHING: not a Felix parameter']);
  });

  it('the hub\'s parameter table agrees with the JSON (names, LocalOnly, Required, enums, regexes)', () => {
    for (const p of FELIX_PARAMS) {
      const j = params.find((x) => x.NameConfigFile === p.name);
      expect(j).toBeDefined();
      expect(felixEnvName(p).toLowerCase()).toBe(j!.NameEnvVar.toLowerCase());
      expect(p.yaml ?? '').toBe(j!.NameYAML);
      expect(p.localOnly).toBe(j!.AllowedConfigSources === 'LocalOnly');
      expect(p.required).toBe(j!.Required);
      if (p.yamlEnum !== undefined) expect(p.yamlEnum.map((v) => `\`"${v}"\``).concat(p.yamlEnum)).toEqual(expect.arrayContaining([...(j!.YAMLEnumValues ?? [])]));
      const accepts = envAccepts(j!);
      if (p.env.kind === 'enum') for (const v of p.env.values) expect(accepts(v)).toBe(true);
      if (p.env.kind === 'regex') expect(j!.StringSchema).toBe(`String matching regex \`${p.env.re.source}\``);
      if (p.env.kind === 'int') expect(j!.StringSchema).toBe(`Integer: [${String(p.env.min)},${String(p.env.max)}]`);
      // the hub's checker and the JSON agree on a few probes
      for (const probe of ['true', 'none', 'NONE', '0', '9099', 'abc', '/var/run/calico', 'ACCEPT', 'Legacy', '1.5']) {
        expect([p.name, probe, envValueProblem(p, probe) === undefined]).toEqual([p.name, probe, accepts(probe)]);
      }
    }
  });

  it('the FelixConfiguration and ClusterInformation objects validate against the CRD schema', () => {
    const objs = felixBackend.kubeObjects(CASES['felix-v3.32-nft-dual']);
    const fc = objs.find((o) => o.kind === 'FelixConfiguration')!;
    expect(fc.metadata.name).toBe('node.node-1.example');
    expect(validate(crdSchema, fc)).toEqual([]);
    expect(objs[0]).toEqual({ apiVersion: 'crd.projectcalico.org/v1', kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { datastoreReady: true } });
  });

  it('every CRD field in the table takes a value the table accepts, and the CRD refuses what the table refuses', () => {
    const spec = (crdSchema as { properties: { spec: { properties: Record<string, unknown> } } }).properties.spec.properties;
    const samples: Record<string, readonly (string | number | boolean)[]> = {
      bool: [true, 'true'],
      int: [9091, 70000, '9091'],
      seconds: ['60s', '1m30s', '1.5s', 60],
      enum: [],
      regex: ['cali', 'bad prefix!'],
      path: ['/var/run/calico'],
    };
    for (const p of FELIX_PARAMS) {
      if (p.yaml === undefined) continue;
      const field = spec[p.yaml];
      expect([p.yaml, field !== undefined]).toEqual([p.yaml, true]);
      const values = [...(samples[p.env.kind] ?? []), ...(p.yamlEnum ?? []), 'Bogus'];
      for (const v of values) {
        const hub = yamlValueProblem(p, v) === undefined;
        const crdOk = validate(field, v).length === 0;
        // what the hub accepts, the CRD accepts (the hub may be stricter: whole-unit durations, canonical enums)
        if (hub) expect([p.yaml, v, crdOk]).toEqual([p.yaml, v, true]);
      }
    }
  });

  it('a deliberately invalid FelixConfiguration fails CRD validation', () => {
    const fc = felixBackend.kubeObjects(CASES['felix-v3.32-nft-dual'])[1]!;
    // the CRD has both an enum and a pattern for it: both refuse
    expect(validate(crdSchema, { ...fc, spec: { ...fc.spec, iptablesBackend: 'Bogus' } })).toEqual([
      expect.stringMatching(/^\$\.spec\.iptablesBackend: must be one of/u),
      expect.stringMatching(/^\$\.spec\.iptablesBackend: "Bogus" does not match/u),
    ]);
    expect(validate(crdSchema, { ...fc, spec: { ...fc.spec, prometheusMetricsPort: '9091' } })).toEqual(['$.spec.prometheusMetricsPort: must be integer; got string']);
    expect(validate(crdSchema, { ...fc, spec: { ...fc.spec, routeRefreshInterval: '1.5s' } })).toHaveLength(1);
  });

  it('the hub checks each of its rendered params by the table (a renderer typo cannot slip through)', () => {
    expect(envValueProblem(felixParam('IptablesBackend'), 'NFT')).toBeUndefined();
    expect(envValueProblem(felixParam('IptablesBackend'), 'nftables')).toMatch(/IptablesBackend must be one of auto, legacy, nft/u);
  });
});
