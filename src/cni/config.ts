/** The plugin's network config (stdin) after decoding: validated fields with defaults, plus the raw object. Pure. */
import { ifNameProblem, isIpv4, type IpAddr } from '../lib/brand.js';
import type { LogLevel } from '../lib/log.js';
import { quote } from '../lib/text.js';
import { containerIdProblem, vethPrefixProblem } from '../lib/validate/names.js';
import { absolutePathProblem, socketPathProblem } from '../lib/validate/paths.js';
import { DEFAULT_VETH_PREFIX } from '../lib/veth-name.js';
import { DEFAULT_SOCKET, type AttachmentKey } from '../rpc/protocol.js';
import { CniError } from './errors.js';
import { CniCode, type CniVersion } from './spec.js';

export const DEFAULT_TIMEOUT_MS = 25_000;
export const VALID_ATTACHMENTS_KEY = 'cni.dev/valid-attachments';
export const DEFAULT_CNI_CONF_DIR = '/etc/cni/net.d';

export type JsonObject = Readonly<Record<string, unknown>>;

export interface NetConf {
  readonly cniVersion: CniVersion;
  readonly name: string;
  readonly socket: string;
  readonly vethPrefix: string;
  readonly logFile?: string;
  readonly logLevel: LogLevel;
  readonly timeoutMs: number;
  /**
   * False (`"shaping": false`, rendered when a chained plugin shapes): no tc ops at ADD, none expected at CHECK;
   * runtimeConfig.bandwidth and the daemon's limits are ignored.
   */
  readonly shaping: boolean;
  /** Where the two-shaper check finds this network's conflist (default /etc/cni/net.d). */
  readonly cniConfDir: string;
  readonly runtimeConfig?: JsonObject;
  readonly prevResult?: JsonObject;
  /** IPv4 addresses of prevResult.ips (the pod's IPs as the runtime cached them). */
  readonly prevIps: readonly IpAddr[];
  /** GC only: the attachments the runtime still uses; undefined when the key is absent. */
  readonly validAttachments?: readonly AttachmentKey[];
  /** The whole decoded config, for pass-through. */
  readonly raw: JsonObject;
}

export function isJsonObject(raw: unknown): raw is JsonObject {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

function invalid(field: string, problem: string): CniError {
  return new CniError(CniCode.INVALID_CONFIG, 'invalid network config', `${field}: ${problem}`);
}

function optionalString(raw: JsonObject, field: string): string | undefined {
  const v = raw[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(field, 'must be a string');
  return v;
}

function path(raw: JsonObject, field: string, problemOf: (v: string) => string | undefined): string | undefined {
  const v = optionalString(raw, field);
  const problem = v === undefined ? undefined : problemOf(v);
  if (problem !== undefined) throw invalid(field, `${problem}, got ${quote(v)}`);
  return v;
}

function parseLogLevelField(raw: JsonObject): LogLevel {
  const v = optionalString(raw, 'logLevel');
  if (v === undefined) return 'warn';
  if (v === 'debug' || v === 'info' || v === 'warn' || v === 'error') return v;
  throw invalid('logLevel', `must be one of debug, info, warn, error; got ${quote(v)}`);
}

function parseTimeout(raw: JsonObject): number {
  const v = raw.timeoutMs;
  if (v === undefined) return DEFAULT_TIMEOUT_MS;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 100 || v > 600_000) {
    throw invalid('timeoutMs', `must be an integer between 100 and 600000, got ${quote(v)}`);
  }
  return v;
}

function parseVethPrefix(raw: JsonObject): string {
  const v = optionalString(raw, 'vethPrefix');
  if (v === undefined) return DEFAULT_VETH_PREFIX;
  const problem = vethPrefixProblem(v);
  if (problem !== undefined) throw invalid('vethPrefix', `${problem}, got ${quote(v)}`);
  return v;
}

function optionalBool(raw: JsonObject, field: string): boolean | undefined {
  const v = raw[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalid(field, `must be true or false, got ${quote(v)}`);
  return v;
}

function optionalObject(raw: JsonObject, field: string): JsonObject | undefined {
  const v = raw[field];
  if (v === undefined) return undefined;
  if (!isJsonObject(v)) throw invalid(field, 'must be an object');
  return v;
}

/** IPv4 addresses from prevResult.ips[].address ("a.b.c.d/len"); other families and odd entries are skipped. */
export function prevResultIps(prev: JsonObject | undefined): IpAddr[] {
  const ips = prev?.ips;
  if (!Array.isArray(ips)) return [];
  const out: IpAddr[] = [];
  for (const entry of ips as unknown[]) {
    if (!isJsonObject(entry) || typeof entry.address !== 'string') continue;
    const ip = entry.address.split('/')[0] ?? '';
    if (isIpv4(ip)) out.push(ip);
  }
  return out;
}

function parseValidAttachments(raw: JsonObject): AttachmentKey[] | undefined {
  const v = raw[VALID_ATTACHMENTS_KEY];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw invalid(VALID_ATTACHMENTS_KEY, 'must be an array');
  return (v as unknown[]).map((entry, i) => {
    const field = `${VALID_ATTACHMENTS_KEY}[${String(i)}]`;
    if (!isJsonObject(entry)) throw invalid(field, 'must be an object');
    const { containerID, ifname } = entry;
    if (typeof containerID !== 'string') throw invalid(`${field}.containerID`, 'must be a string');
    const idProblem = containerIdProblem(containerID);
    if (idProblem !== undefined) throw invalid(`${field}.containerID`, `${idProblem}: ${quote(containerID)}`);
    if (typeof ifname !== 'string') throw invalid(`${field}.ifname`, 'must be a string');
    const ifProblem = ifNameProblem(ifname);
    if (ifProblem !== undefined) throw invalid(`${field}.ifname`, `${ifProblem}: ${quote(ifname)}`);
    return { containerId: containerID, ifName: ifname };
  });
}

/** Validates the plugin-specific fields of an already decoded config whose name and version were checked. */
export function parseNetConf(raw: JsonObject, name: string, cniVersion: CniVersion): NetConf {
  const logFile = path(raw, 'logFile', absolutePathProblem);
  const runtimeConfig = optionalObject(raw, 'runtimeConfig');
  const prevResult = optionalObject(raw, 'prevResult');
  const validAttachments = parseValidAttachments(raw);
  return {
    cniVersion,
    name,
    socket: path(raw, 'socket', socketPathProblem) ?? DEFAULT_SOCKET,
    vethPrefix: parseVethPrefix(raw),
    ...(logFile !== undefined ? { logFile } : {}),
    logLevel: parseLogLevelField(raw),
    timeoutMs: parseTimeout(raw),
    shaping: optionalBool(raw, 'shaping') ?? true,
    cniConfDir: path(raw, 'cniConfDir', absolutePathProblem) ?? DEFAULT_CNI_CONF_DIR,
    ...(runtimeConfig !== undefined ? { runtimeConfig } : {}),
    ...(prevResult !== undefined ? { prevResult } : {}),
    prevIps: prevResultIps(prevResult),
    ...(validAttachments !== undefined ? { validAttachments } : {}),
    raw,
  };
}
