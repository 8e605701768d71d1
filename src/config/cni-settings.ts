/**
 * The CNI settings of the `eni-config` ConfigMap (`10-terway.conflist`, preferred, else `10-terway.conf`; reference
 * §4.4): the terway plugin's `eniip_virtual_type`, `mtu`, `host_stack_cidrs`, `capabilities` and friends. Pure.
 */
import { ConfigError } from '../lib/errors.js';
import { asObj, cidrItems, kindOf, optBool, optEnum, optInt, optString, optStringList, type Obj } from './fields.js';
import { quote } from '../lib/text.js';
import { parseChain, type ChainItem } from './cni-chain.js';

export const CONFLIST_KEY = '10-terway.conflist';
export const CONF_KEY = '10-terway.conf';

export type VirtualType = 'veth' | 'ipvlan' | 'datapathv2';

export interface CniSettings {
  /** Which key the settings came from (`default` when neither is present). */
  readonly source: typeof CONFLIST_KEY | typeof CONF_KEY | 'default';
  readonly eniipVirtualType: VirtualType;
  /** Undefined when unset or 0 (the daemon config's MTU applies). */
  readonly mtu?: number;
  readonly autoMtu: boolean;
  readonly hostStackCidrs: readonly string[];
  /** The terway entry's `capabilities` (default `{"bandwidth": true}`); merged into the hub's entry. */
  readonly capabilities: Readonly<Record<string, boolean>>;
  /**
   * The other plugins of `10-terway.conflist`, in order (those before the terway entry too: the hub must run first,
   * it creates the interface). Present only when the settings came from the conflist: then they are the chain.
   */
  readonly chain?: readonly ChainItem[];
  readonly bandwidthMode?: 'tc' | 'edt';
  readonly networkPolicyProvider?: 'iptables' | 'ebpf';
}

export const DEFAULT_CNI_SETTINGS: CniSettings = { source: 'default', eniipVirtualType: 'veth', autoMtu: false, hostStackCidrs: [], capabilities: { bandwidth: true } };

export function parseCniSettings(data: Readonly<Record<string, string>>): CniSettings {
  const conflist = data[CONFLIST_KEY];
  if (conflist !== undefined && conflist.trim() !== '') {
    const o = asObj(decode(conflist, CONFLIST_KEY), CONFLIST_KEY);
    const plugins = o.plugins;
    if (!Array.isArray(plugins)) throw new ConfigError(`${CONFLIST_KEY}.plugins`, `must be a list; got ${kindOf(plugins)}`);
    const i = plugins.findIndex((p: unknown) => typeof p === 'object' && p !== null && (p as Obj).type === 'terway');
    if (i < 0) throw new ConfigError(`${CONFLIST_KEY}.plugins`, 'no plugin of type "terway"');
    const settings = parsePlugin(asObj(plugins[i], `${CONFLIST_KEY}.plugins[${String(i)}]`), `${CONFLIST_KEY}.plugins[${String(i)}]`, CONFLIST_KEY);
    const others = (plugins as unknown[]).map((p, j) => ({ p, j })).filter(({ j }) => j !== i);
    const parsed = parseChain(others.map(({ p }) => p), (k) => `${CONFLIST_KEY}.plugins[${String(others[k]?.j ?? k)}]`, `${CONFLIST_KEY}.plugins`);
    return { ...settings, chain: parsed };
  }
  const conf = data[CONF_KEY];
  if (conf !== undefined && conf.trim() !== '') return parsePlugin(asObj(decode(conf, CONF_KEY), CONF_KEY), CONF_KEY, CONF_KEY);
  return DEFAULT_CNI_SETTINGS;
}

function decode(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(path, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function parsePlugin(p: Obj, path: string, source: CniSettings['source']): CniSettings {
  const type = optString(p, 'type', path);
  if (type !== undefined && type !== 'terway') throw new ConfigError(`${path}.type`, `must be "terway"; got ${quote(type)}`);
  const vt = optString(p, 'eniip_virtual_type', path);
  const eniipVirtualType = vt === undefined || vt === '' ? 'veth' : (optEnum(p, 'eniip_virtual_type', path, ['veth', 'ipvlan', 'datapathv2'] as const, { lower: true }) ?? 'veth');
  const mtu = optInt(p, 'mtu', path, 0, 9000);
  if (mtu !== undefined && mtu !== 0 && mtu < 576) throw new ConfigError(`${path}.mtu`, `must be 0 (default) or 576..9000; got ${String(mtu)}`);
  const capsRaw = p.capabilities === undefined ? undefined : asObj(p.capabilities, `${path}.capabilities`);
  if (capsRaw !== undefined) for (const k of Object.keys(capsRaw)) optBool(capsRaw, k, `${path}.capabilities`);
  const bandwidthMode = optEnum(p, 'bandwidth_mode', path, ['tc', 'edt'] as const);
  const networkPolicyProvider = optEnum(p, 'network_policy_provider', path, ['iptables', 'ebpf'] as const);
  return {
    source,
    eniipVirtualType,
    ...(mtu !== undefined && mtu !== 0 ? { mtu } : {}),
    autoMtu: optBool(p, 'auto_mtu', path) ?? false,
    hostStackCidrs: cidrItems(optStringList(p, 'host_stack_cidrs', path) ?? [], `${path}.host_stack_cidrs`),
    capabilities: (capsRaw as Readonly<Record<string, boolean>> | undefined) ?? { bandwidth: true },
    ...(bandwidthMode !== undefined ? { bandwidthMode } : {}),
    ...(networkPolicyProvider !== undefined ? { networkPolicyProvider } : {}),
  };
}
