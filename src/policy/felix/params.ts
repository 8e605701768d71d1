/**
 * The Felix parameters the hub renders or lets an admin put in FelixConfiguration, typed after Calico v3.32.1's
 * felix/docs/config-params.json (shared/schemas/calico): env/felix.cfg syntax, CRD (YAML) syntax, LocalOnly,
 * whether `none` is accepted, and the first release that knows the parameter. Every value the hub renders is checked
 * against this table; test/unit/policy/felix-params.test.ts checks the table against the JSON itself. Pure.
 */
import { parseGoDuration } from '../../config/fields.js';
import type { FelixSpecValue } from '../../config/policy-config.js';
import { quote } from '../../lib/text.js';

/** Env / felix.cfg syntax (`StringSchema` in the JSON). */
export type EnvSyntax =
  | { readonly kind: 'bool' }
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  /** Case-insensitive, as Felix parses them. */
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'regex'; readonly re: RegExp }
  | { readonly kind: 'path' }
  | { readonly kind: 'seconds' };

export interface FelixParam {
  /** felix.cfg name (`NameConfigFile`). */
  readonly name: string;
  /** CRD field (`NameYAML`); absent for LocalOnly parameters. */
  readonly yaml?: string;
  readonly env: EnvSyntax;
  /** CRD enum values (`YAMLEnumValues`), canonical capitalisation. */
  readonly yamlEnum?: readonly string[];
  /** `AllowedConfigSources: LocalOnly`: env or file only, never the CRD. */
  readonly localOnly: boolean;
  /** `Required` in the JSON: the value `none` (zero value) is refused; Felix exits on it for `OnParseFailure: Exit`. */
  readonly required: boolean;
  /** First Calico minor release with this parameter. */
  readonly since?: readonly [number, number];
}

const BOOL = { kind: 'bool' } as const;
const PORT = { kind: 'int', min: 0, max: 65535 } as const;
const SEVERITY = { kind: 'enum', values: ['DEBUG', 'ERROR', 'FATAL', 'INFO', 'TRACE', 'WARNING'] } as const;
const SEVERITY_YAML = ['Debug', 'Error', 'Fatal', 'Info', 'Trace', 'Warning'];

function p(name: string, yaml: string | undefined, env: EnvSyntax, more: Partial<Omit<FelixParam, 'name' | 'yaml' | 'env'>> = {}): FelixParam {
  return { name, env, localOnly: yaml === undefined, required: false, ...(yaml !== undefined ? { yaml } : {}), ...more };
}

export const FELIX_PARAMS: readonly FelixParam[] = [
  p('DatastoreType', undefined, { kind: 'enum', values: ['etcdv3', 'kubernetes'] }, { required: true }),
  p('FelixHostname', undefined, { kind: 'regex', re: /^[a-zA-Z0-9_.-]+$/u }, { required: true }),
  p('InterfacePrefix', 'interfacePrefix', { kind: 'regex', re: /^[a-zA-Z0-9_-]{1,15}(,[a-zA-Z0-9_-]{1,15})*$/u }, { required: true }),
  p('HealthEnabled', 'healthEnabled', BOOL),
  p('HealthHost', 'healthHost', { kind: 'regex', re: /^[a-zA-Z0-9:._+-]{1,64}$/u }),
  p('HealthPort', 'healthPort', PORT),
  p('DefaultEndpointToHostAction', 'defaultEndpointToHostAction', { kind: 'enum', values: ['ACCEPT', 'DROP', 'RETURN'] }, { required: true, yamlEnum: ['Accept', 'Drop', 'Return'] }),
  p('ChainInsertMode', 'chainInsertMode', { kind: 'enum', values: ['append', 'insert'] }, { required: true, yamlEnum: ['Append', 'Insert'] }),
  p('IptablesMangleAllowAction', 'iptablesMangleAllowAction', { kind: 'enum', values: ['ACCEPT', 'RETURN'] }, { required: true, yamlEnum: ['Accept', 'Return'] }),
  p('IptablesFilterAllowAction', 'iptablesFilterAllowAction', { kind: 'enum', values: ['ACCEPT', 'RETURN'] }, { required: true, yamlEnum: ['Accept', 'Return'] }),
  p('IptablesFilterDenyAction', 'iptablesFilterDenyAction', { kind: 'enum', values: ['DROP', 'REJECT'] }, { required: true, yamlEnum: ['Drop', 'Reject'] }),
  p('IptablesBackend', 'iptablesBackend', { kind: 'enum', values: ['auto', 'legacy', 'nft'] }, { yamlEnum: ['Auto', 'Legacy', 'NFT'] }),
  p('IptablesRefreshInterval', 'iptablesRefreshInterval', { kind: 'seconds' }),
  // v3.29–3.31 know Enabled|Disabled; v3.32 adds Auto (its default). The hub renders Disabled: an iptables dataplane.
  p('NFTablesMode', 'nftablesMode', { kind: 'enum', values: ['Auto', 'Disabled', 'Enabled'] }, { yamlEnum: ['Auto', 'Disabled', 'Enabled'], since: [3, 29] }),
  p('BPFEnabled', 'bpfEnabled', BOOL),
  p('BPFConnectTimeLoadBalancingEnabled', 'bpfConnectTimeLoadBalancingEnabled', BOOL),
  p('BPFKubeProxyIptablesCleanupEnabled', 'bpfKubeProxyIptablesCleanupEnabled', BOOL),
  p('XDPEnabled', 'xdpEnabled', BOOL),
  p('Ipv6Support', 'ipv6Support', BOOL),
  // "Set to true to run in network-policy mode only" (PR #5454): Felix never touches the hub's routes.
  p('RouteSyncDisabled', 'routeSyncDisabled', BOOL, { since: [3, 24] }),
  p('EndpointStatusPathPrefix', 'endpointStatusPathPrefix', { kind: 'path' }, { since: [3, 28] }),
  p('UsageReportingEnabled', 'usageReportingEnabled', BOOL),
  p('LogSeverityScreen', 'logSeverityScreen', SEVERITY, { yamlEnum: SEVERITY_YAML }),
  p('LogSeveritySys', 'logSeveritySys', SEVERITY, { yamlEnum: SEVERITY_YAML }),
  p('LogFilePath', 'logFilePath', { kind: 'path' }),
  p('PrometheusMetricsEnabled', 'prometheusMetricsEnabled', BOOL),
  p('PrometheusMetricsPort', 'prometheusMetricsPort', PORT),
];

const BY_NAME = new Map(FELIX_PARAMS.map((x) => [x.name, x]));
const BY_YAML = new Map(FELIX_PARAMS.flatMap((x) => (x.yaml === undefined ? [] : [[x.yaml, x] as const])));

export function felixParam(name: string): FelixParam {
  const x = BY_NAME.get(name);
  if (x === undefined) throw new Error(`felix param ${name} is not in the table`); // a bug in the renderer, not input
  return x;
}

export function felixParamByYaml(yaml: string): FelixParam | undefined {
  return BY_YAML.get(yaml);
}

/** `FELIX_` + the upper-cased name: how Terway and the manifests write it (Felix matches it case-insensitively). */
export function felixEnvName(param: FelixParam): string {
  return `FELIX_${param.name.toUpperCase()}`;
}

const BOOL_WORDS = ['true', '1', 'yes', 'y', 't', 'false', '0', 'no', 'n', 'f'];
const SECONDS = /^\d+(\.\d+)?$/u;
/** CRD durations in whole units: the CRD's pattern rejects a fraction (see the calico schema README). */
const CRD_DURATION = /^([0-9]+(ms|s|m|h))+$/u;

/** A problem with an env/felix.cfg value (undefined: Felix accepts it). */
export function envValueProblem(param: FelixParam, value: string): string | undefined {
  if (value.toLowerCase() === 'none') return param.required ? `${param.name} may not be "none"` : undefined;
  const s = param.env;
  switch (s.kind) {
    case 'bool':
      return BOOL_WORDS.includes(value.toLowerCase()) ? undefined : `${param.name} must be a boolean; got ${quote(value)}`;
    case 'int': {
      const n = Number(value);
      return /^\d+$/u.test(value) && n >= s.min && n <= s.max ? undefined : `${param.name} must be an integer in [${String(s.min)},${String(s.max)}]; got ${quote(value)}`;
    }
    case 'enum':
      return s.values.some((v) => v.toLowerCase() === value.toLowerCase()) ? undefined : `${param.name} must be one of ${s.values.join(', ')}; got ${quote(value)}`;
    case 'regex':
      return s.re.test(value) ? undefined : `${param.name} must match ${s.re.source}; got ${quote(value)}`;
    case 'path':
      return value.startsWith('/') && !value.includes('\0') ? undefined : `${param.name} must be an absolute path or "none"; got ${quote(value)}`;
    case 'seconds':
      return SECONDS.test(value) ? undefined : `${param.name} must be seconds (a number); got ${quote(value)}`;
  }
}

/** A problem with a FelixConfiguration spec value for this parameter. */
export function yamlValueProblem(param: FelixParam, value: FelixSpecValue): string | undefined {
  const field = param.yaml ?? param.name;
  if (param.localOnly) return `${field} can only be set by env or file (LocalOnly), not in FelixConfiguration`;
  if (param.yamlEnum !== undefined) {
    return typeof value === 'string' && param.yamlEnum.includes(value) ? undefined : `${field} must be one of ${param.yamlEnum.join(', ')}; got ${quote(value)}`;
  }
  const s = param.env;
  switch (s.kind) {
    case 'bool':
      return typeof value === 'boolean' ? undefined : `${field} must be true or false; got ${quote(value)}`;
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= s.min && value <= s.max
        ? undefined
        : `${field} must be an integer in [${String(s.min)},${String(s.max)}]; got ${quote(value)}`;
    case 'seconds':
      return typeof value === 'string' && CRD_DURATION.test(value) && parseGoDuration(value) !== undefined
        ? undefined
        : `${field} must be a duration in whole units like "90s" or "1m30s"; got ${quote(value)}`;
    case 'enum':
    case 'regex':
    case 'path':
      if (typeof value !== 'string') return `${field} must be a string; got ${quote(value)}`;
      return envValueProblem(param, value)?.replace(param.name, field);
  }
}
