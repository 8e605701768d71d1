/**
 * Felix in policy-only mode for the hub's veth dataplanes (reference backends.md §A, "Felix backend"): the FELIX_*
 * environment (authoritative: env wins over felix.cfg and FelixConfiguration), the same values mirrored in
 * felix.cfg, the datastore objects Felix waits for, and the process to supervise. Every value is checked against
 * ./params.ts as it is rendered. Pure.
 */
import { ConfigError } from '../../lib/errors.js';
import type { HttpProbe, ProcessSpec, RenderedFile } from '../process-spec.js';
import { baseEnv, type KubeObject, type PolicyContext } from '../types.js';
import { atLeast, type Release } from '../version.js';
import { FELIX_PARAMS, envValueProblem, felixEnvName, felixParam, felixParamByYaml, yamlValueProblem } from './params.js';

export const FELIX_HEALTH_HOST = '127.0.0.1';
/** Felix exits 129 ("the same code as SIGHUP") after a restart-requiring config change: restart it at once. */
export const FELIX_RESTART_EXIT_CODE = 129;
export const FELIX_STOP_GRACE_MS = 10_000;
/** The API group Felix talks to; pinned (v3.32 auto-discovers otherwise: reference §A.2). */
export const CALICO_CRD_GROUP = 'crd.projectcalico.org/v1';

export function felixConfigPath(ctx: PolicyContext): string {
  return `${ctx.runDir}/felix/felix.cfg`;
}

/**
 * The Felix parameters, in felix.cfg names, for this context and Felix release. Order is the rendering order (and
 * the golden files'). Version gates: RouteSyncDisabled ≥ 3.24 (the supported floor), EndpointStatusPathPrefix ≥ 3.28,
 * NFTablesMode ≥ 3.29.
 */
export function felixParamValues(ctx: PolicyContext, release: Release): readonly (readonly [string, string])[] {
  const s = ctx.settings.felix;
  const values: [string, string, boolean][] = [
    ['DatastoreType', 'kubernetes', true],
    ['FelixHostname', ctx.nodeName, true],
    ['InterfacePrefix', ctx.vethPrefix, true],
    ['HealthEnabled', 'true', true],
    ['HealthHost', FELIX_HEALTH_HOST, true],
    ['HealthPort', String(s.healthPort), true],
    ['DefaultEndpointToHostAction', 'ACCEPT', true],
    ['ChainInsertMode', 'insert', true],
    ['IptablesMangleAllowAction', 'ACCEPT', true],
    ['IptablesFilterAllowAction', 'ACCEPT', true],
    ['IptablesBackend', ctx.node.iptablesBackend === 'nft' ? 'NFT' : 'Legacy', true],
    ['NFTablesMode', 'Disabled', atLeast(release, 3, 29)],
    ['BPFEnabled', 'false', true],
    ['BPFConnectTimeLoadBalancingEnabled', 'false', true],
    ['BPFKubeProxyIptablesCleanupEnabled', 'false', true],
    ['XDPEnabled', 'false', true],
    ['Ipv6Support', ctx.ipStack === 'dual' ? 'true' : 'false', true],
    ['RouteSyncDisabled', 'true', true],
    ['IptablesRefreshInterval', '60', true],
    ['UsageReportingEnabled', 'false', true],
    ['EndpointStatusPathPrefix', '/var/run/calico', atLeast(release, 3, 28)],
    ['LogSeverityScreen', 'INFO', true],
    ['LogSeveritySys', 'none', true],
    ['LogFilePath', 'none', true],
  ];
  return values.filter(([, , on]) => on).map(([name, value]) => {
    const problem = envValueProblem(felixParam(name), value);
    if (problem !== undefined) throw new ConfigError(`policy.felix (${felixEnvName(felixParam(name))})`, problem);
    return [name, value] as const;
  });
}

/** The whole environment of the Felix process: client settings, Kubernetes access, PATH and the FELIX_* values. */
export function felixEnv(ctx: PolicyContext, release: Release): Record<string, string> {
  const env: Record<string, string> = {
    ...baseEnv(ctx.kube),
    // libcalico-go's datastore client (apiconfig): Kubernetes datastore, pod CIDRs instead of Calico IPAM blocks.
    DATASTORE_TYPE: 'kubernetes',
    USE_POD_CIDR: 'true',
    ...(atLeast(release, 3, 32) ? { CALICO_API_GROUP: CALICO_CRD_GROUP } : {}),
  };
  for (const [name, value] of felixParamValues(ctx, release)) env[felixEnvName(felixParam(name))] = value;
  return env;
}

/** felix.cfg: the same values in a `[global]` section (section names are ignored by Felix; this is the convention). */
export function felixCfg(ctx: PolicyContext, release: Release): string {
  const lines = felixParamValues(ctx, release).map(([name, value]) => `${name} = ${value}`);
  return ['# Rendered by terway-hub. The FELIX_* environment holds the same values and wins over this file.', '[global]', ...lines, ''].join('\n');
}

export function felixFiles(ctx: PolicyContext, release: Release): readonly RenderedFile[] {
  return [{ path: felixConfigPath(ctx), content: felixCfg(ctx, release), mode: 0o644 }];
}

/** Felix waits forever ("Waiting for datastore to be initialized") until this object says the datastore is ready. */
export function clusterInformation(): KubeObject {
  return { apiVersion: CALICO_CRD_GROUP, kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { datastoreReady: true } };
}

/**
 * The admin's extra FelixConfiguration fields, as this node's `node.<nodeName>` object (per-node: nodes with
 * different daemon configs never overwrite each other's, and it ranks above the cluster-wide `default`).
 * Undefined when none are configured. Throws ConfigError on a field `felixSpecProblems` reports.
 */
export function felixConfiguration(ctx: PolicyContext, release: Release): KubeObject | undefined {
  const spec = ctx.settings.felix.felixConfiguration;
  if (spec === undefined || Object.keys(spec).length === 0) return undefined;
  const problems = felixSpecProblems(ctx, release);
  if (problems.length > 0) throw new ConfigError('policy.felix.felixConfiguration', problems.join('; '));
  const sorted = Object.fromEntries(Object.entries(spec).sort(([a], [b]) => a.localeCompare(b)));
  return { apiVersion: CALICO_CRD_GROUP, kind: 'FelixConfiguration', metadata: { name: `node.${ctx.nodeName}` }, spec: sorted };
}

/** Each FelixConfiguration field the hub cannot pass on, as a sentence naming `policy.felix.felixConfiguration.<field>`. */
export function felixSpecProblems(ctx: PolicyContext, release: Release): readonly string[] {
  const spec = ctx.settings.felix.felixConfiguration ?? {};
  const pinned = new Set(felixParamValues(ctx, release).map(([name]) => name));
  const out: string[] = [];
  for (const [field, value] of Object.entries(spec)) {
    const path = `policy.felix.felixConfiguration.${field}`;
    const param = felixParamByYaml(field);
    if (param === undefined) {
      out.push(`${path} is not a field the hub can check (it accepts: ${checkableFields(pinned).join(', ')})`);
    } else if (pinned.has(param.name)) {
      out.push(`${path} is set by the hub through ${felixEnvName(param)}, which wins over FelixConfiguration; remove it`);
    } else if (param.since !== undefined && !atLeast(release, ...param.since)) {
      out.push(`${path} needs Felix ${param.since.join('.')} or later; policy.felix.version is ${String(release.major)}.${String(release.minor)}`);
    } else {
      const problem = yamlValueProblem(param, value);
      if (problem !== undefined) out.push(`${path}: ${problem}`);
    }
  }
  return out;
}

/** The table's CRD fields the hub does not pin by env: what an admin may set in FelixConfiguration. */
function checkableFields(pinned: ReadonlySet<string>): string[] {
  return FELIX_PARAMS.flatMap((x) => (x.yaml !== undefined && !pinned.has(x.name) ? [x.yaml] : []));
}

export function felixProcess(ctx: PolicyContext, release: Release, binary: string): ProcessSpec {
  const probe = (path: string): HttpProbe => ({ host: FELIX_HEALTH_HOST, port: ctx.settings.felix.healthPort, path });
  return {
    name: 'felix',
    argv: [binary, `--config-file=${felixConfigPath(ctx)}`],
    env: felixEnv(ctx, release),
    liveness: probe('/liveness'),
    readiness: probe('/readiness'),
    restartNowExitCodes: [FELIX_RESTART_EXIT_CODE],
    stopGraceMs: FELIX_STOP_GRACE_MS,
  };
}
