/**
 * The daemon config's `cloud` section: which provider the node's pod addresses come from. `local` (the default) is
 * the embedded provider (src/cloud/local: the `local` section's links and addresses); `aliyun` is the Aliyun ECS
 * provider (src/cloud/aliyun: ENIs and their secondary IPs from the ECS OpenAPI, the node's facts from the instance
 * metadata service). For aliyun: where the metadata service and the ECS OpenAPI are, the transport settings of the
 * SDK, and an inline `eniConf` (Terway's eni_conf keys, snake_case) for nodes without Kubernetes — with Kubernetes
 * the cluster's eni-config `eni_conf` takes its place. Pure; ConfigError naming the field.
 */
import { ConfigError } from '../lib/errors.js';
import { quote } from '../lib/text.js';
import { parseEniConf, type EniConf } from './eni-conf.js';
import { asObj } from './fields.js';

export const CLOUD_PROVIDERS = ['local', 'aliyun'] as const;
export type CloudProviderName = (typeof CLOUD_PROVIDERS)[number];

export interface AliyunSettings {
  /** The ECS instance metadata service (default http://100.100.100.200). */
  readonly metadataEndpoint: string;
  /** `host[:port]` of the ECS OpenAPI; absent: the SDK's regional endpoint. */
  readonly ecsEndpoint?: string;
  readonly protocol: 'https' | 'http';
  /** `v3` (ACS3-HMAC-SHA256, the SDK's default) or `v2` (the legacy RPC HMAC-SHA1 signature). */
  readonly signature: 'v3' | 'v2';
  /** Per ECS call (the SDK's read timeout). */
  readonly readTimeoutMs: number;
  /** Terway's eni_conf for a node without Kubernetes (with Kubernetes the cluster's wins). */
  readonly eniConf?: EniConf;
  /** Tolerated oddities of the inline eni_conf (unknown or legacy keys): the provider logs them. */
  readonly eniConfWarnings: readonly string[];
}

export interface CloudConfig {
  readonly provider: CloudProviderName;
  /** Set when `provider` is aliyun. */
  readonly aliyun?: AliyunSettings;
}

export const DEFAULT_CLOUD_CONFIG: CloudConfig = { provider: 'local' };
export const DEFAULT_ALIYUN_SETTINGS: AliyunSettings = { metadataEndpoint: 'http://100.100.100.200', protocol: 'https', signature: 'v3', readTimeoutMs: 10_000, eniConfWarnings: [] };

const KEYS = ['provider', 'metadataEndpoint', 'ecsEndpoint', 'protocol', 'signature', 'readTimeoutMs', 'eniConf'] as const;
const ALIYUN_ONLY = KEYS.filter((k) => k !== 'provider');
const HOST_PORT = /^[A-Za-z0-9.-]+(:\d{1,5})?$/u;

export function parseCloudConfig(raw: unknown, path = 'cloud'): CloudConfig {
  if (raw === undefined) return DEFAULT_CLOUD_CONFIG;
  const o = asObj(raw, path);
  for (const k of Object.keys(o)) if (!(KEYS as readonly string[]).includes(k)) throw new ConfigError(`${path}.${k}`, 'unknown field');
  const provider = o.provider ?? DEFAULT_CLOUD_CONFIG.provider;
  if (typeof provider !== 'string' || !(CLOUD_PROVIDERS as readonly string[]).includes(provider)) {
    throw new ConfigError(`${path}.provider`, `must be one of ${CLOUD_PROVIDERS.join(', ')}; got ${quote(provider)}`);
  }
  if (provider === 'local') {
    const extra = ALIYUN_ONLY.find((k) => o[k] !== undefined);
    if (extra !== undefined) throw new ConfigError(`${path}.${extra}`, 'only with provider aliyun');
    return { provider: 'local' };
  }
  const d = DEFAULT_ALIYUN_SETTINGS;
  const metadataEndpoint = o.metadataEndpoint ?? d.metadataEndpoint;
  if (typeof metadataEndpoint !== 'string' || !/^https?:\/\/[^/\s]+\/?$/u.test(metadataEndpoint)) {
    throw new ConfigError(`${path}.metadataEndpoint`, `must be an http(s) URL without a path (http://100.100.100.200); got ${quote(metadataEndpoint)}`);
  }
  const ecsEndpoint = o.ecsEndpoint;
  if (ecsEndpoint !== undefined && (typeof ecsEndpoint !== 'string' || !HOST_PORT.test(ecsEndpoint))) {
    throw new ConfigError(`${path}.ecsEndpoint`, `must be host[:port] (ecs-vpc.cn-hangzhou.aliyuncs.com); got ${quote(ecsEndpoint)}`);
  }
  const protocol = o.protocol ?? d.protocol;
  if (protocol !== 'https' && protocol !== 'http') throw new ConfigError(`${path}.protocol`, `must be https or http; got ${quote(protocol)}`);
  const signature = o.signature ?? d.signature;
  if (signature !== 'v3' && signature !== 'v2') throw new ConfigError(`${path}.signature`, `must be v3 (ACS3-HMAC-SHA256) or v2 (HMAC-SHA1); got ${quote(signature)}`);
  const readTimeoutMs = o.readTimeoutMs ?? d.readTimeoutMs;
  if (typeof readTimeoutMs !== 'number' || !Number.isInteger(readTimeoutMs) || readTimeoutMs < 100 || readTimeoutMs > 600_000) {
    throw new ConfigError(`${path}.readTimeoutMs`, `must be an integer in 100..600000; got ${quote(readTimeoutMs)}`);
  }
  const eni = o.eniConf === undefined ? undefined : parseEniConf(o.eniConf, `${path}.eniConf`);
  return {
    provider: 'aliyun',
    aliyun: {
      metadataEndpoint,
      protocol,
      signature,
      readTimeoutMs,
      ...(typeof ecsEndpoint === 'string' ? { ecsEndpoint } : {}),
      ...(eni !== undefined ? { eniConf: eni.value } : {}),
      eniConfWarnings: eni?.warnings ?? [],
    },
  };
}
