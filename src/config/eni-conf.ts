/**
 * The `eni_conf` JSON of Terway's `eni-config` ConfigMap (reference §3.2), pure: every field Terway documents is
 * parsed and validated with its default; unknown and legacy fields are tolerated (Terway compatibility) and
 * reported as warnings. Errors are ConfigErrors naming the field path (`eni_conf.max_pool_size`).
 */
import { ConfigError } from '../lib/errors.js';
import {
  asObj,
  cidrItems,
  isIpv4Cidr,
  kindOf,
  optBool,
  optDuration,
  optEnum,
  optInt,
  optNumber,
  optString,
  optStringList,
  optStringMap,
  parseGoDuration,
  type Obj,
} from './fields.js';
import { quote } from '../lib/text.js';

export const BUILTIN_STATEFUL_KINDS = ['statefulset'] as const;
const MAX_SECURITY_GROUPS = 10;

export interface TagFilter {
  readonly key: string;
  readonly value: string;
}

export interface EniConf {
  readonly version?: string;
  readonly accessKey?: string;
  readonly accessSecret?: string;
  readonly regionId?: string;
  readonly credentialPath?: string;
  /** IPv4 (and optional IPv6) service CIDRs. */
  readonly serviceCidrs: readonly string[];
  readonly vswitches: Readonly<Record<string, readonly string[]>>;
  readonly vswitchSelectionPolicy: 'random' | 'ordered' | 'most';
  readonly eniSelectionPolicy: 'most_ips' | 'least_ips';
  /** Union of security_group and security_groups (≤ 10). */
  readonly securityGroups: readonly string[];
  readonly eniTags: Readonly<Record<string, string>>;
  readonly eniTagFilter: Readonly<Record<string, string>>;
  readonly eniTagBlockList: readonly TagFilter[];
  readonly maxPoolSize: number;
  readonly minPoolSize: number;
  readonly minEni: number;
  readonly maxEni: number;
  readonly eniCapRatio: number;
  readonly eniCapShift: number;
  readonly ipStack: 'ipv4' | 'dual';
  readonly ipamType: '' | 'crd' | 'preferCRD';
  readonly enableEniTrunking: boolean;
  readonly enableErdma: boolean;
  /** Lower-cased owner kinds whose pods keep their IP (always includes statefulset). */
  readonly statefulKinds: readonly string[];
  readonly ipWarmUpSize?: number;
  readonly idleIpReclaimAfterMs?: number;
  readonly idleIpReclaimIntervalMs: number;
  readonly idleIpReclaimBatchSize: number;
  readonly idleIpReclaimJitterFactor: number;
  readonly ipPoolSyncPeriodMs: number;
  readonly backoffOverride: Readonly<Record<string, Obj>>;
  readonly extraRoutes: readonly Obj[];
  readonly disableDevicePlugin: boolean;
  readonly kubeClientQps?: number;
  readonly kubeClientBurst?: number;
  readonly resourceGroupId?: string;
  readonly rateLimit: Readonly<Record<string, number>>;
  readonly enablePatchPodIps: boolean;
  readonly enableIpPrefix: boolean;
  readonly ipv4PrefixCount: number;
  readonly ipv6PrefixCount: number;
}

export interface Parsed<T> {
  readonly value: T;
  /** Tolerated oddities (unknown or legacy fields, ignored settings), for the log. */
  readonly warnings: readonly string[];
}

const KNOWN = new Set([
  'version', 'access_key', 'access_secret', 'region_id', 'credential_path', 'service_cidr', 'vswitches', 'vswitch_selection_policy',
  'eni_selection_policy', 'security_group', 'security_groups', 'eni_tags', 'eni_tag_filter', 'eni_tag_block_list', 'max_pool_size',
  'min_pool_size', 'min_eni', 'max_eni', 'eni_cap_ratio', 'eni_cap_shift', 'ip_stack', 'ipam_type', 'enable_eni_trunking', 'enable_erdma',
  'custom_stateful_workload_kinds', 'ip_warm_up_size', 'idle_ip_reclaim_after', 'idle_ip_reclaim_interval', 'idle_ip_reclaim_batch_size',
  'idle_ip_reclaim_jitter_factor', 'ip_pool_sync_period', 'backoff_override', 'extra_routes', 'disable_device_plugin', 'kube_client_qps',
  'kube_client_burst', 'resource_group_id', 'rate_limit', 'enable_patch_pod_ips', 'enable_ip_prefix', 'ipv4_prefix_count', 'ipv6_prefix_count',
]);
const LEGACY = new Set(['prefix', 'hook_plugin', 'eni_cap_policy', 'enable_eip_pool', 'allow_eip_rob']);

export function decodeEniConf(text: string, path = 'eni_conf'): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(path, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

export function parseEniConf(raw: unknown, path = 'eni_conf'): Parsed<EniConf> {
  const o = asObj(raw, path);
  const warnings: string[] = [];
  for (const k of Object.keys(o)) {
    if (LEGACY.has(k)) warnings.push(`${path}.${k}: legacy field, ignored`);
    else if (!KNOWN.has(k)) warnings.push(`${path}.${k}: unknown field, ignored`);
  }

  const serviceCidrRaw = optString(o, 'service_cidr', path);
  const serviceCidrs = serviceCidrRaw === undefined ? [] : cidrItems(serviceCidrRaw.split(',').filter((s) => s.trim() !== ''), `${path}.service_cidr`);
  if (serviceCidrs.filter(isIpv4Cidr).length > 1) throw new ConfigError(`${path}.service_cidr`, 'at most one IPv4 CIDR (and one IPv6)');

  const vswitches = parseVswitches(o, path);
  const sg = optString(o, 'security_group', path);
  const sgs = optStringList(o, 'security_groups', path) ?? [];
  const securityGroups = [...new Set([...(sg !== undefined && sg !== '' ? [sg] : []), ...sgs.filter((s) => s !== '')])];
  if (securityGroups.length > MAX_SECURITY_GROUPS) {
    throw new ConfigError(`${path}.security_groups`, `security groups should not be more than ${String(MAX_SECURITY_GROUPS)} (got ${String(securityGroups.length)})`);
  }

  const maxPoolSize = optInt(o, 'max_pool_size', path, 0) ?? 5;
  const minPoolSize = optInt(o, 'min_pool_size', path, 0) ?? 0;
  if (minPoolSize > maxPoolSize) throw new ConfigError(`${path}.min_pool_size`, `must not exceed max_pool_size (${String(minPoolSize)} > ${String(maxPoolSize)})`);

  const ipStackRaw = optString(o, 'ip_stack', path);
  if (ipStackRaw === 'ipv6') throw new ConfigError(`${path}.ip_stack`, 'ipv6-only is not supported; use "ipv4" or "dual"');
  const ipStack = ipStackRaw === '' ? 'ipv4' : (optEnum(o, 'ip_stack', path, ['ipv4', 'dual'] as const) ?? 'ipv4');
  if (ipStack === 'dual') warnings.push(`${path}.ip_stack: dual stack is not implemented yet; pods get IPv4 only`);

  const ipamType = optEnum(o, 'ipam_type', path, ['', 'crd', 'preferCRD'] as const) ?? '';
  if (ipamType !== '') warnings.push(`${path}.ipam_type: ${quote(ipamType)} (centralized IPAM) is not implemented; the daemon-local IPAM is used`);

  const kinds = optStringList(o, 'custom_stateful_workload_kinds', path) ?? [];
  kinds.forEach((k, i) => {
    if (!/^[A-Za-z][A-Za-z0-9]*$/u.test(k)) throw new ConfigError(`${path}.custom_stateful_workload_kinds[${String(i)}]`, `not a Kubernetes kind: ${quote(k)}`);
  });

  const jitterRaw = optString(o, 'idle_ip_reclaim_jitter_factor', path);
  const jitter = jitterRaw === undefined ? 0.1 : Number(jitterRaw);
  if (jitterRaw !== undefined && (jitterRaw.trim() === '' || !Number.isFinite(jitter) || jitter < 0)) {
    throw new ConfigError(`${path}.idle_ip_reclaim_jitter_factor`, `must be a non-negative number in a string; got ${quote(jitterRaw)}`);
  }

  // Terway falls back to 120 s when ip_pool_sync_period is empty or unparsable: tolerated with a warning.
  const syncRaw = optString(o, 'ip_pool_sync_period', path);
  const syncMs = syncRaw === undefined || syncRaw === '' ? undefined : parseGoDuration(syncRaw);
  if (syncRaw !== undefined && syncRaw !== '' && syncMs === undefined) warnings.push(`${path}.ip_pool_sync_period: unparsable ${quote(syncRaw)}, using 120s`);

  const ipv4PrefixCount = optInt(o, 'ipv4_prefix_count', path, 0, 4096) ?? 0;
  const ipv6PrefixCount = optInt(o, 'ipv6_prefix_count', path, 0, 1) ?? 0;
  const enableIpPrefix = optBool(o, 'enable_ip_prefix', path) ?? false;
  if (enableIpPrefix) warnings.push(`${path}.enable_ip_prefix: prefix IPAM is not implemented; ignored`);

  const value: EniConf = {
    ...defined('version', optString(o, 'version', path)),
    ...defined('accessKey', optString(o, 'access_key', path, true)),
    ...defined('accessSecret', optString(o, 'access_secret', path, true)),
    ...defined('regionId', optString(o, 'region_id', path)),
    ...defined('credentialPath', optString(o, 'credential_path', path)),
    serviceCidrs,
    vswitches,
    vswitchSelectionPolicy: optEnum(o, 'vswitch_selection_policy', path, ['random', 'ordered', 'most'] as const) ?? 'random',
    eniSelectionPolicy: optEnum(o, 'eni_selection_policy', path, ['most_ips', 'least_ips'] as const) ?? 'most_ips',
    securityGroups,
    eniTags: optStringMap(o, 'eni_tags', path) ?? {},
    eniTagFilter: optStringMap(o, 'eni_tag_filter', path) ?? {},
    eniTagBlockList: parseTagList(o, 'eni_tag_block_list', path),
    maxPoolSize,
    minPoolSize,
    minEni: optInt(o, 'min_eni', path, 0) ?? 0,
    maxEni: optInt(o, 'max_eni', path, 0) ?? 0,
    eniCapRatio: optNumber(o, 'eni_cap_ratio', path, 0, true) ?? 1,
    eniCapShift: optInt(o, 'eni_cap_shift', path, -64, 64) ?? 0,
    ipStack,
    ipamType,
    enableEniTrunking: optBool(o, 'enable_eni_trunking', path) ?? false,
    enableErdma: optBool(o, 'enable_erdma', path) ?? false,
    statefulKinds: [...new Set([...BUILTIN_STATEFUL_KINDS, ...kinds.map((k) => k.toLowerCase())])],
    ...defined('ipWarmUpSize', optInt(o, 'ip_warm_up_size', path, 0)),
    ...defined('idleIpReclaimAfterMs', optDuration(o, 'idle_ip_reclaim_after', path)),
    idleIpReclaimIntervalMs: optDuration(o, 'idle_ip_reclaim_interval', path) ?? 10 * 60_000,
    idleIpReclaimBatchSize: optInt(o, 'idle_ip_reclaim_batch_size', path, 1) ?? 5,
    idleIpReclaimJitterFactor: jitter,
    ipPoolSyncPeriodMs: syncMs ?? 120_000,
    backoffOverride: parseObjectMap(o, 'backoff_override', path),
    extraRoutes: parseObjectList(o, 'extra_routes', path),
    disableDevicePlugin: optBool(o, 'disable_device_plugin', path) ?? false,
    ...defined('kubeClientQps', optNumber(o, 'kube_client_qps', path, 0, true)),
    ...defined('kubeClientBurst', optInt(o, 'kube_client_burst', path, 1)),
    ...defined('resourceGroupId', optString(o, 'resource_group_id', path)),
    rateLimit: parseIntMap(o, 'rate_limit', path),
    enablePatchPodIps: optBool(o, 'enable_patch_pod_ips', path) ?? true,
    enableIpPrefix,
    ipv4PrefixCount,
    ipv6PrefixCount,
  };
  return { value, warnings };
}

function defined<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

function parseVswitches(o: Obj, path: string): Readonly<Record<string, readonly string[]>> {
  if (o.vswitches === undefined) return {};
  const m = asObj(o.vswitches, `${path}.vswitches`);
  const out: Record<string, readonly string[]> = {};
  for (const zone of Object.keys(m)) {
    const ids = optStringList(m, zone, `${path}.vswitches`) ?? [];
    ids.forEach((id, i) => {
      if (!/^vsw-[a-z0-9]+$/u.test(id)) throw new ConfigError(`${path}.vswitches.${zone}[${String(i)}]`, `not a vSwitch id (vsw-…): ${quote(id)}`);
    });
    out[zone] = ids;
  }
  return out;
}

function parseTagList(o: Obj, key: string, path: string): readonly TagFilter[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(`${path}.${key}`, `must be a list of {key, value}; got ${kindOf(v)}`);
  return v.map((x: unknown, i) => {
    const p = `${path}.${key}[${String(i)}]`;
    const e = asObj(x, p);
    const k = optString(e, 'key', p);
    if (k === undefined || k === '') throw new ConfigError(`${p}.key`, 'required');
    return { key: k, value: optString(e, 'value', p) ?? '' };
  });
}

function parseObjectMap(o: Obj, key: string, path: string): Readonly<Record<string, Obj>> {
  if (o[key] === undefined) return {};
  const m = asObj(o[key], `${path}.${key}`);
  for (const [k, x] of Object.entries(m)) asObj(x, `${path}.${key}.${k}`);
  return m as Readonly<Record<string, Obj>>;
}

function parseObjectList(o: Obj, key: string, path: string): readonly Obj[] {
  const v = o[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(`${path}.${key}`, `must be a list; got ${kindOf(v)}`);
  return v.map((x: unknown, i) => asObj(x, `${path}.${key}[${String(i)}]`));
}

function parseIntMap(o: Obj, key: string, path: string): Readonly<Record<string, number>> {
  if (o[key] === undefined) return {};
  const m = asObj(o[key], `${path}.${key}`);
  for (const k of Object.keys(m)) optInt(m, k, `${path}.${key}`, 0);
  return m as Readonly<Record<string, number>>;
}
