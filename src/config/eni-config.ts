/**
 * The whole `eni-config` ConfigMap (reference §3.1), pure: `eni_conf` (optionally merged with a per-node override
 * ConfigMap's `eni_conf` by RFC 7396), the CNI settings, `disable_network_policy` and the hub's `daemon_mode`.
 * The ConfigMap is accepted or rejected as a whole; a rejection is a ConfigError naming the field path.
 */
import { ConfigError } from '../lib/errors.js';
import { parseCniSettings, type CniSettings } from './cni-settings.js';
import { decodeEniConf, parseEniConf, type EniConf } from './eni-conf.js';
import { mergePatch, type Json } from './merge-patch.js';
import { quote } from '../lib/text.js';

export const ENI_CONF_KEY = 'eni_conf';
export const DAEMON_MODE_KEY = 'daemon_mode';
export const DISABLE_POLICY_KEY = 'disable_network_policy';
/** Node label naming a ConfigMap (same namespace) whose `eni_conf` is merged onto the base one. */
export const NODE_CONFIG_LABEL = 'terway-config';

export const DAEMON_MODES = ['VPC', 'ENIMultiIP', 'ENI'] as const;
export type DaemonMode = (typeof DAEMON_MODES)[number];
export const DEFAULT_DAEMON_MODE: DaemonMode = 'ENIMultiIP';

const KNOWN_KEYS = new Set([ENI_CONF_KEY, '10-terway.conf', '10-terway.conflist', DISABLE_POLICY_KEY, DAEMON_MODE_KEY, 'in_cluster_loadbalance', 'felix_relay_service']);

export interface ClusterConfig {
  readonly daemonMode: DaemonMode;
  readonly eniConf: EniConf;
  readonly cni: CniSettings;
  readonly disableNetworkPolicy: boolean;
  readonly warnings: readonly string[];
}

export interface ConfigMapData {
  /** "namespace/name", for messages. */
  readonly id: string;
  readonly data: Readonly<Record<string, string>>;
}

/** Terway: "false", "0" and "" keep policy enabled; anything else disables it; absent → enabled. */
export function parseDisableNetworkPolicy(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  return !['false', '0', ''].includes(raw.trim().toLowerCase());
}

export function parseDaemonMode(raw: string | undefined, path = DAEMON_MODE_KEY): DaemonMode {
  if (raw === undefined || raw.trim() === '') return DEFAULT_DAEMON_MODE;
  const v = raw.trim().toLowerCase();
  if (v === 'vpc') return 'VPC';
  if (v === 'enimultiip') return 'ENIMultiIP';
  if (v === 'eni' || v === 'enionly') return 'ENI';
  throw new ConfigError(path, `must be one of ${DAEMON_MODES.join(', ')}; got ${quote(raw)}`);
}

/**
 * `override` (the node's `terway-config` ConfigMap) contributes its `eni_conf` as a merge patch and, when present,
 * its `daemon_mode` (a hub extension: switch one node's mode).
 */
export function parseClusterConfig(base: ConfigMapData, override?: ConfigMapData): ClusterConfig {
  const warnings: string[] = [];
  for (const k of Object.keys(base.data)) if (!KNOWN_KEYS.has(k)) warnings.push(`${k}: unknown ConfigMap key, ignored`);
  const baseText = base.data[ENI_CONF_KEY];
  if (baseText === undefined || baseText.trim() === '') throw new ConfigError(ENI_CONF_KEY, `required in ${base.id}`);
  let eniRaw = decodeEniConf(baseText, ENI_CONF_KEY);
  if (override !== undefined) {
    const text = override.data[ENI_CONF_KEY];
    if (text !== undefined && text.trim() !== '') {
      const patch = decodeEniConf(text, `${override.id}: ${ENI_CONF_KEY}`);
      eniRaw = mergePatch(eniRaw as Json, patch as Json);
    }
  }
  const eni = parseEniConf(eniRaw, ENI_CONF_KEY);
  const modeRaw = override?.data[DAEMON_MODE_KEY] ?? base.data[DAEMON_MODE_KEY];
  return {
    daemonMode: parseDaemonMode(modeRaw),
    eniConf: eni.value,
    cni: parseCniSettings(base.data),
    disableNetworkPolicy: parseDisableNetworkPolicy(base.data[DISABLE_POLICY_KEY]),
    warnings: [...warnings, ...eni.warnings],
  };
}
