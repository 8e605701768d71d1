/**
 * The node daemon's configuration (embedded default: the local provider). Pure: `parseDaemonConfig(raw)` takes
 * what a YAML/JSON file decoded to and returns a validated config with defaults, or throws ConfigError naming the
 * field path (`local.eni.ips[1]`).
 */
import type { Cidr, IfName, IpAddr, MacAddr } from '../lib/brand.js';
import { ifNameProblem, isIpv4, parseCidr, parseMac } from '../lib/brand.js';
import { ConfigError, InvalidInputError } from '../lib/errors.js';
import { quote } from '../lib/text.js';
import { dnsLabelProblem, dnsSubdomainProblem, networkNameProblem, vethPrefixProblem } from '../lib/validate/names.js';
import { absolutePathProblem, socketPathProblem } from '../lib/validate/paths.js';
import type { LogLevel } from '../lib/log.js';
import { cidrContains, cidrParts, ipToInt, networkCidr } from '../lib/net.js';
import { DEFAULT_SOCKET } from '../rpc/protocol.js';
import { MODE_NAMES, isModeName, type ModeName } from '../modes/types.js';
import { setFromCidr, setFromSpecs, splitSpecs } from '../ipam/range.js';
import { parseChain, type ChainItem } from './cni-chain.js';
import { parsePolicyConfig, type PolicyConfig } from './policy-config.js';
import { parsePoolConfig, type PoolConfig } from './pool-config.js';
import { parseCloudConfig, type CloudConfig } from './cloud-config.js';

export interface VpcConfig {
  readonly podCIDR: Cidr;
}

export interface LocalEniConfig {
  readonly link: IfName;
  readonly gateway: IpAddr;
  /** Validated address specs ("a.b.c.d" or "a.b.c.d-a.b.c.e"), all inside `subnet`. */
  readonly ips: readonly string[];
  readonly subnet: Cidr;
}

/**
 * One link of the node that stands in for a secondary ENI in exclusive-ENI mode (`local.enis`): known by its MAC
 * (its name changes: the pod's `eth0`, then its neutral name `eni<12 hex>` after a DEL), with its one IP, its
 * vSwitch subnet and gateway.
 */
export interface LocalExclusiveEni {
  readonly mac: MacAddr;
  readonly ip: IpAddr;
  readonly subnet: Cidr;
  readonly gateway: IpAddr;
}

/**
 * Exclusive-ENI mode's node facts (`eni` section): the node's IP and what pods reach through the host stack over
 * their side-car veth — the service CIDR (with Kubernetes: eni_conf `service_cidr` wins) and `hostStackCidrs` (with
 * Kubernetes: the CNI `host_stack_cidrs`).
 */
export interface ExclusiveEniConfig {
  readonly hostIp: IpAddr;
  readonly serviceCidr?: Cidr;
  readonly hostStackCidrs: readonly Cidr[];
}

/**
 * ipvlan mode's node facts besides the ENI (`local.eni`): the node's own IP, put on the host slave `ipvl_<ifindex>`
 * (Terway uses the node's primary IP), and what pods reach through the host stack — the service CIDR (with
 * Kubernetes: eni_conf `service_cidr` wins) and `hostStackCidrs` (with Kubernetes: the CNI `host_stack_cidrs`).
 */
export interface IpvlanConfig {
  readonly hostIp: IpAddr;
  readonly serviceCidr?: Cidr;
  readonly hostStackCidrs: readonly Cidr[];
}

export interface DaemonConfig {
  readonly mode: ModeName;
  readonly socket: string;
  readonly stateDir: string;
  readonly cniConfDir: string;
  readonly conflistName: string;
  readonly networkName: string;
  readonly cniVersion: string;
  readonly cniVersions: readonly string[];
  /**
   * Plugins placed after the hub's entry in the rendered conflist (no Kubernetes: podman, demo). With Kubernetes,
   * eni-config's `10-terway.conflist`, when present, defines the chain instead.
   */
  readonly chain: readonly ChainItem[];
  /** Where the chain's plugin binaries are looked for (first hit), to ask each its supported CNI versions. */
  readonly cniBinDirs: readonly string[];
  readonly vethPrefix: string;
  readonly mtu: number;
  /** "host:port", a unix socket path (absolute or `unix://...`), or "" to disable. */
  readonly httpListen: string;
  /** The plugin's log file, written into the conflist. */
  readonly cniLogFile: string;
  readonly keepConflistOnExit: boolean;
  readonly logLevel: LogLevel;
  readonly vpc?: VpcConfig;
  /** The local provider's resources: `eni` (the ENI of the multi-IP modes), `enis` (exclusive-ENI mode's links). */
  readonly local?: LocalConfig;
  /** Required in ipvlan mode (with `local.eni`). */
  readonly ipvlan?: IpvlanConfig;
  /** Required in eni (exclusive ENI) mode. */
  readonly eni?: ExclusiveEniConfig;
  /** This node's name in Kubernetes (else env NODE_NAME). Kubernetes integration needs it. */
  readonly nodeName?: string;
  /** A kubeconfig file (env KUBECONFIG); without it the daemon uses the in-cluster config when available. */
  readonly kubeconfig?: string;
  /** Namespace of the `eni-config` ConfigMap and per-node override ConfigMaps (Terway: kube-system). */
  readonly kubeNamespace: string;
  readonly eniConfigName: string;
  /** Period of the garbage collector (leaked leases and host leftovers); it also runs at start. */
  readonly gcIntervalSeconds: number;
  /** The kubelet device plugin advertising `aliyun/eni` (exclusive ENI slots); off unless enabled. */
  readonly devicePlugin: DevicePluginConfig;
  /** The NetworkPolicy backend and its settings (src/config/policy-config.ts); parsed only, not acted on yet. */
  readonly policy: PolicyConfig;
  /** The warm pool of ENI secondary IPs (ENI modes; src/config/pool-config.ts). */
  readonly pool: PoolConfig;
  /**
   * Where pod addresses come from (src/config/cloud-config.ts): the embedded local provider (default) or Aliyun ECS.
   * With aliyun the ENI modes need no `local` section (the ENIs come from the cloud, the node facts from the
   * metadata service).
   */
  readonly cloud: CloudConfig;
}

export interface LocalConfig {
  readonly eni?: LocalEniConfig;
  readonly enis?: readonly LocalExclusiveEni[];
}

export interface DevicePluginConfig {
  readonly enabled: boolean;
  readonly capacity: number;
  readonly dir: string;
}

export const DEFAULT_CONFIG = {
  mode: 'vpc',
  socket: DEFAULT_SOCKET,
  stateDir: '/var/lib/terway-hub',
  cniConfDir: '/etc/cni/net.d',
  conflistName: '05-terway-hub.conflist',
  networkName: 'terway-hub',
  cniVersion: '1.0.0',
  cniVersions: ['0.4.0', '1.0.0', '1.1.0'],
  chain: [],
  cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni'],
  vethPrefix: 'cali',
  mtu: 1500,
  httpListen: '127.0.0.1:9470',
  cniLogFile: '/var/log/terway-hub/cni.log',
  keepConflistOnExit: true,
  logLevel: 'info',
  kubeNamespace: 'kube-system',
  eniConfigName: 'eni-config',
  gcIntervalSeconds: 300,
  devicePlugin: { enabled: false, capacity: 0, dir: '/var/lib/kubelet/device-plugins' },
} as const satisfies Omit<DaemonConfig, 'vpc' | 'local' | 'ipvlan' | 'eni' | 'nodeName' | 'kubeconfig' | 'policy' | 'pool' | 'cloud'>;

const TOP_KEYS = new Set([...Object.keys(DEFAULT_CONFIG), 'vpc', 'local', 'ipvlan', 'eni', 'nodeName', 'kubeconfig', 'policy', 'pool', 'cloud']);
const CNI_VERSION = /^\d+\.\d+\.\d+$/u;
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

type Obj = Readonly<Record<string, unknown>>;

function modeProblem(raw: unknown): string {
  return `must be one of ${MODE_NAMES.join(', ')}; got ${quote(raw)}`;
}

export function parseDaemonConfig(raw: unknown): DaemonConfig {
  const top = raw === undefined || raw === null ? {} : obj(raw, '(root)');
  for (const k of Object.keys(top)) if (!TOP_KEYS.has(k)) throw new ConfigError(k, 'unknown field');

  const modeRaw = top.mode ?? DEFAULT_CONFIG.mode;
  if (!isModeName(modeRaw)) throw new ConfigError('mode', modeProblem(modeRaw));
  const mode: ModeName = modeRaw;

  const cniVersion = str(top, 'cniVersion', DEFAULT_CONFIG.cniVersion);
  if (!CNI_VERSION.test(cniVersion)) throw new ConfigError('cniVersion', `not a CNI version: ${quote(cniVersion)}`);
  const cniVersions = strList(top, 'cniVersions', DEFAULT_CONFIG.cniVersions);
  cniVersions.forEach((v, i) => {
    if (!CNI_VERSION.test(v)) throw new ConfigError(`cniVersions[${String(i)}]`, `not a CNI version: ${quote(v)}`);
  });
  if (!cniVersions.includes(cniVersion)) throw new ConfigError('cniVersions', `must include cniVersion ${cniVersion}`);

  const chainRaw = top.chain ?? [];
  if (!Array.isArray(chainRaw)) throw new ConfigError('chain', 'must be a list of plugin entries (objects with a "type")');
  const chain = parseChain(chainRaw as unknown[], (i) => `chain[${String(i)}]`, 'chain');
  const cniBinDirs = strList(top, 'cniBinDirs', DEFAULT_CONFIG.cniBinDirs);
  cniBinDirs.forEach((d, i) => { check(`cniBinDirs[${String(i)}]`, d, absolutePathProblem); });

  const vethPrefix = str(top, 'vethPrefix', DEFAULT_CONFIG.vethPrefix);
  check('vethPrefix', vethPrefix, vethPrefixProblem);

  const mtu = top.mtu ?? DEFAULT_CONFIG.mtu;
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 576 || mtu > 9000) {
    throw new ConfigError('mtu', `must be an integer in 576..9000; got ${quote(mtu)}`);
  }

  const logLevel = str(top, 'logLevel', DEFAULT_CONFIG.logLevel);
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new ConfigError('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);

  const keep = top.keepConflistOnExit ?? DEFAULT_CONFIG.keepConflistOnExit;
  if (typeof keep !== 'boolean') throw new ConfigError('keepConflistOnExit', 'must be a boolean');

  const conflistName = str(top, 'conflistName', DEFAULT_CONFIG.conflistName);
  if (conflistName.includes('/') || !/\.conflist$/u.test(conflistName)) {
    throw new ConfigError('conflistName', 'must be a file name ending in .conflist');
  }
  const networkName = str(top, 'networkName', DEFAULT_CONFIG.networkName);
  check('networkName', networkName, networkNameProblem);

  const httpListen = str(top, 'httpListen', DEFAULT_CONFIG.httpListen, true);
  checkListen(httpListen);

  const nodeName = top.nodeName === undefined ? undefined : str(top, 'nodeName', undefined);
  if (nodeName !== undefined) check('nodeName', nodeName, dnsSubdomainProblem);
  const kubeconfig = top.kubeconfig === undefined ? undefined : absPath(top, 'kubeconfig', '');
  const kubeNamespace = str(top, 'kubeNamespace', DEFAULT_CONFIG.kubeNamespace);
  check('kubeNamespace', kubeNamespace, dnsLabelProblem);
  const eniConfigName = str(top, 'eniConfigName', DEFAULT_CONFIG.eniConfigName);
  check('eniConfigName', eniConfigName, dnsSubdomainProblem);

  const gcIntervalSeconds = top.gcIntervalSeconds ?? DEFAULT_CONFIG.gcIntervalSeconds;
  if (typeof gcIntervalSeconds !== 'number' || !Number.isInteger(gcIntervalSeconds) || gcIntervalSeconds < 5 || gcIntervalSeconds > 86_400) {
    throw new ConfigError('gcIntervalSeconds', `must be an integer in 5..86400; got ${quote(gcIntervalSeconds)}`);
  }
  const devicePlugin = parseDevicePlugin(top.devicePlugin, mode);
  const policy = parsePolicyConfig(top.policy);
  const pool = parsePoolConfig(top.pool);
  const cloud = parseCloudConfig(top.cloud);
  // with a cloud provider the ENIs and the node's IP come from the cloud: no local section needed
  const localEnis = cloud.provider === 'local';

  const vpc = top.vpc === undefined ? undefined : parseVpc(top.vpc);
  const local = top.local === undefined ? undefined : parseLocal(top.local);
  if (mode === 'vpc' && vpc === undefined) throw new ConfigError('vpc.podCIDR', 'required in vpc mode');
  if (mode === 'veth-policy-routing' && localEnis && local?.eni === undefined) throw new ConfigError('local.eni', 'required in veth-policy-routing mode (or cloud.provider: aliyun)');
  const ipvlan = top.ipvlan === undefined ? undefined : parseIpvlan(top.ipvlan, local?.eni);
  const eni = top.eni === undefined ? undefined : parseExclusiveEniSection(top.eni, local?.enis ?? []);
  if (mode === 'eni' && localEnis && eni === undefined) throw new ConfigError('eni.hostIp', "required in eni mode (the node's IP, which pods reach through their side-car veth)");
  if (mode === 'ipvlan' && localEnis) {
    if (local?.eni === undefined) throw new ConfigError('local.eni', 'required in ipvlan mode (the ENI whose slaves the pods get)');
    if (ipvlan === undefined) throw new ConfigError('ipvlan.hostIp', "required in ipvlan mode (the node's IP, put on the host slave ipvl_<ifindex>)");
  }

  return {
    mode,
    socket: absPath(top, 'socket', DEFAULT_CONFIG.socket, socketPathProblem),
    stateDir: absPath(top, 'stateDir', DEFAULT_CONFIG.stateDir),
    cniConfDir: absPath(top, 'cniConfDir', DEFAULT_CONFIG.cniConfDir),
    conflistName,
    networkName,
    cniVersion,
    cniVersions,
    chain,
    cniBinDirs,
    vethPrefix,
    mtu,
    httpListen,
    cniLogFile: absPath(top, 'cniLogFile', DEFAULT_CONFIG.cniLogFile),
    keepConflistOnExit: keep,
    logLevel: logLevel as LogLevel,
    kubeNamespace,
    eniConfigName,
    gcIntervalSeconds,
    devicePlugin,
    policy,
    pool,
    cloud,
    ...(vpc !== undefined ? { vpc } : {}),
    ...(local !== undefined ? { local } : {}),
    ...(ipvlan !== undefined ? { ipvlan } : {}),
    ...(eni !== undefined ? { eni } : {}),
    ...(nodeName !== undefined ? { nodeName } : {}),
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
  };
}

/** In eni mode the capacity follows the instance type (the pool's maxEnis); `capacity` is for the other modes. */
function parseDevicePlugin(raw: unknown, mode: ModeName): DevicePluginConfig {
  const d = DEFAULT_CONFIG.devicePlugin;
  if (raw === undefined) return d;
  const o = obj(raw, 'devicePlugin');
  for (const k of Object.keys(o)) if (!Object.hasOwn(d, k)) throw new ConfigError(`devicePlugin.${k}`, 'unknown field');
  const enabled = o.enabled ?? d.enabled;
  if (typeof enabled !== 'boolean') throw new ConfigError('devicePlugin.enabled', 'must be a boolean');
  const capacity = o.capacity ?? d.capacity;
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 0 || capacity > 64) {
    throw new ConfigError('devicePlugin.capacity', `must be an integer in 0..64; got ${quote(capacity)}`);
  }
  if (enabled && capacity === 0 && mode !== 'eni') throw new ConfigError('devicePlugin.capacity', 'must be > 0 when the device plugin is enabled (in eni mode it follows the instance type)');
  const dir = o.dir ?? d.dir;
  if (typeof dir !== 'string') throw new ConfigError('devicePlugin.dir', `must be a string; got ${quote(dir)}`);
  check('devicePlugin.dir', dir, absolutePathProblem);
  return { enabled, capacity, dir };
}

function parseVpc(raw: unknown): VpcConfig {
  const o = obj(raw, 'vpc');
  for (const k of Object.keys(o)) if (k !== 'podCIDR') throw new ConfigError(`vpc.${k}`, 'unknown field');
  const podCIDR = str(o, 'podCIDR', undefined, false, 'vpc.');
  try {
    setFromCidr(podCIDR, 'vpc.podCIDR');
  } catch (e) {
    throw asConfigError(e, 'vpc.podCIDR');
  }
  return { podCIDR: networkCidr(podCIDR) };
}

function parseLocal(raw: unknown): LocalConfig {
  const o = obj(raw, 'local');
  for (const k of Object.keys(o)) if (k !== 'eni' && k !== 'enis') throw new ConfigError(`local.${k}`, 'unknown field');
  if (o.eni === undefined && o.enis === undefined) throw new ConfigError('local', 'needs eni (the multi-IP modes\' ENI) or enis (exclusive-ENI mode\'s links)');
  const eni = o.eni === undefined ? undefined : parseLocalEni(o.eni);
  const enis = o.enis === undefined ? undefined : parseLocalEnis(o.enis);
  return { ...(eni !== undefined ? { eni } : {}), ...(enis !== undefined ? { enis } : {}) };
}

function parseLocalEni(raw: unknown): LocalEniConfig {
  const e = obj(raw, 'local.eni');
  const known = new Set(['link', 'gateway', 'ips', 'subnet']);
  for (const k of Object.keys(e)) if (!known.has(k)) throw new ConfigError(`local.eni.${k}`, 'unknown field');

  const link = str(e, 'link', undefined, false, 'local.eni.');
  check('local.eni.link', link, ifNameProblem);

  const subnetRaw = str(e, 'subnet', undefined, false, 'local.eni.');
  let subnet: Cidr;
  try {
    setFromCidr(subnetRaw, 'local.eni.subnet');
    subnet = networkCidr(subnetRaw);
  } catch (err) {
    throw asConfigError(err, 'local.eni.subnet');
  }

  const gateway = str(e, 'gateway', undefined, false, 'local.eni.');
  if (!isIpv4(gateway)) throw new ConfigError('local.eni.gateway', `not an IPv4 address: ${quote(gateway)}`);
  if (!cidrContains(subnet, gateway)) throw new ConfigError('local.eni.gateway', `${gateway} is outside ${subnet}`);

  let specs: readonly string[];
  if (typeof e.ips === 'string') specs = splitSpecs(e.ips);
  else if (Array.isArray(e.ips)) {
    e.ips.forEach((x: unknown, i) => {
      if (typeof x !== 'string') throw new ConfigError(`local.eni.ips[${String(i)}]`, 'must be a string');
    });
    specs = splitSpecs(e.ips as string[]);
  } else throw new ConfigError('local.eni.ips', e.ips === undefined ? 'required' : 'must be a range string or a list');
  try {
    const set = setFromSpecs(specs, 'local.eni.ips', subnet);
    if (set.addrs.includes(ipToInt(gateway))) throw new ConfigError('local.eni.ips', `includes the gateway ${gateway}`);
  } catch (err) {
    throw asConfigError(err, 'local.eni.ips');
  }
  return { link: link as IfName, gateway, ips: specs, subnet };
}

/** `local.enis`: distinct MACs and IPs, each IP inside its subnet and not its gateway. */
function parseLocalEnis(raw: unknown): readonly LocalExclusiveEni[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new ConfigError('local.enis', 'must be a non-empty list of { mac, ip, subnet, gateway }');
  const seenMac = new Set<string>();
  const seenIp = new Set<string>();
  return (raw as unknown[]).map((item, i) => {
    const p = `local.enis[${String(i)}]`;
    const e = obj(item, p);
    for (const k of Object.keys(e)) if (!['mac', 'ip', 'subnet', 'gateway'].includes(k)) throw new ConfigError(`${p}.${k}`, 'unknown field');
    let mac: MacAddr;
    try {
      mac = parseMac(str(e, 'mac', undefined, false, `${p}.`), `${p}.mac`);
    } catch (err) {
      throw asConfigError(err, `${p}.mac`);
    }
    const subnet = cidrField(e.subnet, `${p}.subnet`);
    const ip = str(e, 'ip', undefined, false, `${p}.`);
    if (!isIpv4(ip)) throw new ConfigError(`${p}.ip`, `not an IPv4 address: ${quote(ip)}`);
    if (!cidrContains(subnet, ip)) throw new ConfigError(`${p}.ip`, `${ip} is outside ${subnet}`);
    const gateway = str(e, 'gateway', undefined, false, `${p}.`);
    if (!isIpv4(gateway)) throw new ConfigError(`${p}.gateway`, `not an IPv4 address: ${quote(gateway)}`);
    if (!cidrContains(subnet, gateway)) throw new ConfigError(`${p}.gateway`, `${gateway} is outside ${subnet}`);
    if (gateway === ip) throw new ConfigError(`${p}.ip`, `is the gateway ${gateway}`);
    if (seenMac.has(mac.toLowerCase())) throw new ConfigError(`${p}.mac`, `${mac} is listed twice`);
    if (seenIp.has(ip)) throw new ConfigError(`${p}.ip`, `${ip} is listed twice`);
    seenMac.add(mac.toLowerCase());
    seenIp.add(ip);
    return { mac, ip: ip, subnet, gateway: gateway };
  });
}

/** A CIDR field in canonical form (network address), or ConfigError naming the field. */
function cidrField(raw: unknown, path: string): Cidr {
  if (typeof raw !== 'string') throw new ConfigError(path, `must be a CIDR string; got ${quote(raw)}`);
  try {
    return networkCidr(parseCidr(raw, path));
  } catch (err) {
    throw asConfigError(err, path);
  }
}

/**
 * The `ipvlan` section. The service CIDR must not overlap the ENI's subnet: pod traffic to a pod of the vSwitch
 * would be redirected to the host stack instead of reaching it.
 */
export function parseIpvlan(raw: unknown, eni: LocalEniConfig | undefined): IpvlanConfig {
  const o = obj(raw, 'ipvlan');
  const known = new Set(['hostIp', 'serviceCidr', 'hostStackCidrs']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new ConfigError(`ipvlan.${k}`, 'unknown field');
  if (o.hostIp === undefined) throw new ConfigError('ipvlan.hostIp', "required (the node's IP, put on the host slave ipvl_<ifindex> as /32 scope host)");
  const hostIp = o.hostIp;
  if (typeof hostIp !== 'string' || !isIpv4(hostIp)) throw new ConfigError('ipvlan.hostIp', `not an IPv4 address: ${quote(hostIp)}`);
  if (eni !== undefined && eni.gateway === hostIp) throw new ConfigError('ipvlan.hostIp', `is the vSwitch gateway ${eni.gateway}`);
  if (eni !== undefined && setFromSpecs(eni.ips, 'local.eni.ips', eni.subnet).addrs.includes(ipToInt(hostIp))) {
    throw new ConfigError('ipvlan.hostIp', `${hostIp} is in local.eni.ips (a pod address)`);
  }
  const serviceCidr = o.serviceCidr === undefined ? undefined : cidrField(o.serviceCidr, 'ipvlan.serviceCidr');
  if (serviceCidr !== undefined && eni !== undefined) checkNoOverlap(serviceCidr, eni.subnet, 'ipvlan.serviceCidr');
  const listRaw = o.hostStackCidrs ?? [];
  if (!Array.isArray(listRaw)) throw new ConfigError('ipvlan.hostStackCidrs', 'must be a list of CIDRs');
  const hostStackCidrs = (listRaw as unknown[]).map((c, i) => cidrField(c, `ipvlan.hostStackCidrs[${String(i)}]`));
  return { hostIp: hostIp, ...(serviceCidr !== undefined ? { serviceCidr } : {}), hostStackCidrs };
}

/**
 * The `eni` section (exclusive-ENI mode): the node's IP and what pods reach through their side-car veth. The node's
 * IP must not be one of `local.enis`' pod addresses; the service CIDR must not contain them (a pod's traffic to
 * another pod would go to the node instead of its ENI).
 */
export function parseExclusiveEniSection(raw: unknown, enis: readonly LocalExclusiveEni[]): ExclusiveEniConfig {
  const o = obj(raw, 'eni');
  for (const k of Object.keys(o)) if (!['hostIp', 'serviceCidr', 'hostStackCidrs'].includes(k)) throw new ConfigError(`eni.${k}`, 'unknown field');
  if (o.hostIp === undefined) throw new ConfigError('eni.hostIp', "required (the node's IP, which pods reach through their side-car veth)");
  const hostIp = o.hostIp;
  if (typeof hostIp !== 'string' || !isIpv4(hostIp)) throw new ConfigError('eni.hostIp', `not an IPv4 address: ${quote(hostIp)}`);
  if (enis.some((e) => e.ip === hostIp)) throw new ConfigError('eni.hostIp', `${hostIp} is in local.enis (a pod address)`);
  const serviceCidr = o.serviceCidr === undefined ? undefined : cidrField(o.serviceCidr, 'eni.serviceCidr');
  if (serviceCidr !== undefined) for (const e of enis) checkNoOverlap(serviceCidr, e.subnet, 'eni.serviceCidr');
  const listRaw = o.hostStackCidrs ?? [];
  if (!Array.isArray(listRaw)) throw new ConfigError('eni.hostStackCidrs', 'must be a list of CIDRs');
  const hostStackCidrs = (listRaw as unknown[]).map((c, i) => cidrField(c, `eni.hostStackCidrs[${String(i)}]`));
  return { hostIp: hostIp, ...(serviceCidr !== undefined ? { serviceCidr } : {}), hostStackCidrs };
}

/** ConfigError when `cidr` and the ENI's `subnet` share an address. */
export function checkNoOverlap(cidr: Cidr, subnet: Cidr, path: string): void {
  const [a, b] = [cidrParts(cidr), cidrParts(subnet)];
  if (a.network <= b.network + b.size - 1 && b.network <= a.network + a.size - 1) throw new ConfigError(path, `${cidr} overlaps the ENI's subnet ${subnet} (pod traffic to the vSwitch would be redirected to the node)`);
}

function asConfigError(err: unknown, fallbackPath: string): Error {
  if (err instanceof ConfigError) return err;
  if (err instanceof InvalidInputError) {
    const prefix = `${err.field}: `;
    const msg = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
    return new ConfigError(err.field, msg, { cause: err });
  }
  return new ConfigError(fallbackPath, err instanceof Error ? err.message : String(err), { cause: err });
}

function checkListen(v: string): void {
  if (v === '') return;
  if (v.startsWith('/') || v.startsWith('unix://')) {
    check('httpListen', v.startsWith('/') ? v : v.slice('unix://'.length), socketPathProblem);
    return;
  }
  const m = /^(.*):(\d{1,5})$/u.exec(v);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > 65535 || (m[1] !== '' && !isIpv4(m[1] ?? '') && m[1] !== 'localhost')) {
    throw new ConfigError('httpListen', `must be "host:port", a unix socket path, or ""; got ${quote(v)}`);
  }
}

function obj(raw: unknown, path: string): Obj {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(path, 'must be an object');
  return raw as Obj;
}

function str(o: Obj, key: string, dflt: string | undefined, allowEmpty = false, prefix = ''): string {
  const v = o[key] ?? dflt;
  if (v === undefined) throw new ConfigError(`${prefix}${key}`, 'required');
  if (typeof v !== 'string') throw new ConfigError(`${prefix}${key}`, 'must be a string');
  if (!allowEmpty && v.length === 0) throw new ConfigError(`${prefix}${key}`, 'must not be empty');
  return v;
}

function absPath(o: Obj, key: string, dflt: string, problemOf: (v: string) => string | undefined = absolutePathProblem): string {
  const v = str(o, key, dflt);
  check(key, v, problemOf);
  return v;
}

/** One shared validator (src/lib/validate, src/lib/brand.ts) applied to a config field: ConfigError on a problem. */
function check(path: string, v: string, problemOf: (v: string) => string | undefined): void {
  const problem = problemOf(v);
  if (problem !== undefined) throw new ConfigError(path, `${problem}; got ${quote(v)}`);
}

function strList(o: Obj, key: string, dflt: readonly string[]): readonly string[] {
  const v = o[key] ?? dflt;
  if (!Array.isArray(v) || v.length === 0) throw new ConfigError(key, 'must be a non-empty list of strings');
  return v.map((x: unknown, i) => {
    if (typeof x !== 'string') throw new ConfigError(`${key}[${String(i)}]`, 'must be a string');
    return x;
  });
}
