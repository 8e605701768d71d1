/**
 * Env + stdin → a typed request, with the error codes and messages of Go's skel. Pure.
 * Order of checks: command and missing env (4) → stdin decode (6) → network name (7) → container id, ifname,
 * netns (4) → cniVersion (1) → verb allowed by version (1) → CNI_ARGS (4) → plugin fields (7).
 */
import { ifNameProblem, type IfName, type NetnsPath } from '../lib/brand.js';
import { clip, hasReplacementChar, quote } from '../lib/text.js';
import { containerIdProblem, networkNameProblem } from '../lib/validate/names.js';
import { netnsPathProblem } from '../lib/validate/paths.js';
import { isBatchSafe } from '../netlink/render.js';
import { parseCniArgs, type CniArgs } from './cni-args.js';
import { isJsonObject, parseNetConf, type JsonObject, type NetConf } from './config.js';
import { CniError } from './errors.js';
import {
  CniCode,
  IMPLICIT_VERSION,
  LATEST_VERSION,
  SUPPORTED_VERSIONS,
  isCniCommand,
  isSupportedVersion,
  versionAllows,
  type CniCommand,
  type CniVersion,
} from './spec.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface AttachmentEnv {
  readonly containerId: string;
  readonly ifName: IfName;
  /** Absent only for DEL without CNI_NETNS. */
  readonly netns?: NetnsPath;
  readonly args: CniArgs;
}

export type CniRequest =
  | { readonly command: 'VERSION'; readonly cniVersion: string }
  | { readonly command: 'ADD' | 'CHECK'; readonly env: AttachmentEnv & { readonly netns: NetnsPath }; readonly config: NetConf }
  | { readonly command: 'DEL'; readonly env: AttachmentEnv; readonly config: NetConf }
  | { readonly command: 'GC' | 'STATUS'; readonly config: NetConf };

/** CNI_COMMAND unset: the binary was run by hand; print the about text. */
export interface AboutRequest {
  readonly command: 'about';
}

type EnvVar = 'CNI_COMMAND' | 'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME';

const REQUIRED: Record<CniCommand, readonly EnvVar[]> = {
  ADD: ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_IFNAME'],
  GC: ['CNI_COMMAND'],
  STATUS: ['CNI_COMMAND'],
  VERSION: ['CNI_COMMAND'],
};

function envError(msg: string, details?: string): CniError {
  return new CniError(CniCode.INVALID_ENV, msg, details);
}

function nonEmpty(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** VERSION answers with the input's cniVersion when it can read one, else the latest it supports. */
export function versionOfStdin(stdin: string): string {
  try {
    const raw: unknown = JSON.parse(stdin);
    if (isJsonObject(raw) && typeof raw.cniVersion === 'string' && raw.cniVersion !== '') return raw.cniVersion;
  } catch {
    // VERSION must answer whatever stdin holds
  }
  return LATEST_VERSION;
}

function decodeConfig(stdin: string): JsonObject {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (err) {
    throw new CniError(CniCode.DECODE, `error unmarshall network config: ${clip(err instanceof Error ? err.message : String(err), 256)}`);
  }
  if (!isJsonObject(raw)) throw new CniError(CniCode.DECODE, 'error unmarshall network config: not a JSON object');
  return raw;
}

function networkName(raw: JsonObject): string {
  const name = raw.name;
  if (name === undefined || name === '') throw new CniError(CniCode.INVALID_CONFIG, 'missing network name');
  if (typeof name !== 'string' || networkNameProblem(name) !== undefined) {
    throw new CniError(CniCode.INVALID_CONFIG, 'invalid characters found in network name', quote(name));
  }
  return name;
}

function configVersion(raw: JsonObject, cmd: CniCommand): CniVersion {
  const v = raw.cniVersion;
  if (v !== undefined && typeof v !== 'string') throw new CniError(CniCode.DECODE, 'error unmarshall network config: cniVersion must be a string');
  const version = v === undefined || v === '' ? IMPLICIT_VERSION : v;
  if (!isSupportedVersion(version)) {
    const supported = SUPPORTED_VERSIONS.map((s) => JSON.stringify(s)).join(' ');
    throw new CniError(CniCode.INCOMPATIBLE_VERSION, 'incompatible CNI versions', `config is ${quote(version)}, plugin supports [${supported}]`);
  }
  if (!versionAllows(cmd, version)) throw new CniError(CniCode.INCOMPATIBLE_VERSION, `config version does not allow ${cmd}`);
  return version;
}

/** An env value used as a name: refused when it was not valid UTF-8 (see hasReplacementChar). */
function decodable(name: EnvVar, value: string): string {
  if (hasReplacementChar(value)) throw envError(`${name} is not valid UTF-8 (bytes a name cannot be given back exactly)`, quote(value));
  return value;
}

function attachmentEnv(env: Env): { containerId: string; ifName: IfName; netns: NetnsPath | undefined } {
  const containerId = decodable('CNI_CONTAINERID', env.CNI_CONTAINERID ?? '');
  if (containerIdProblem(containerId) !== undefined) throw envError('invalid characters in containerID', quote(containerId));
  const ifName = decodable('CNI_IFNAME', env.CNI_IFNAME ?? '');
  const problem = ifNameProblem(ifName);
  if (problem !== undefined) throw envError(problem, quote(ifName));
  const netns = nonEmpty(env, 'CNI_NETNS');
  if (netns !== undefined && netnsPathProblem(decodable('CNI_NETNS', netns)) !== undefined) throw envError('CNI_NETNS must be an absolute path', quote(netns));
  return { containerId, ifName: ifName as IfName, netns: netns as NetnsPath | undefined };
}

export function parseCniRequest(env: Env, stdin: string): CniRequest | AboutRequest {
  const command = nonEmpty(env, 'CNI_COMMAND');
  if (command === undefined) return { command: 'about' };
  const required = isCniCommand(command) ? REQUIRED[command] : ['CNI_COMMAND'];
  const missing = required.filter((name) => nonEmpty(env, name) === undefined);
  if (missing.length > 0) throw envError(`required env variables [${missing.join(',')}] missing`);
  if (!isCniCommand(command)) throw envError(`unknown CNI_COMMAND: ${clip(command)}`);
  if (command === 'VERSION') return { command, cniVersion: versionOfStdin(stdin) };

  const raw = decodeConfig(stdin);
  const name = networkName(raw);
  const att = command === 'ADD' || command === 'CHECK' || command === 'DEL' ? attachmentEnv(env) : undefined;
  const version = configVersion(raw, command);
  const args = parseCniArgs(env.CNI_ARGS);
  const config = parseNetConf(raw, name, version);
  if (att === undefined) return { command: command as 'GC' | 'STATUS', config };
  const base = { containerId: att.containerId, ifName: att.ifName, args };
  if (command === 'DEL') return { command, env: { ...base, ...(att.netns !== undefined ? { netns: att.netns } : {}) }, config };
  if (att.netns === undefined) throw envError('required env variables [CNI_NETNS] missing');
  // ADD and CHECK put both into ip/tc batch lines; refuse them here (code 4), not after allocating (DEL never does).
  if (!isBatchSafe(att.ifName)) throw envError('interface name contains a quote, # or backslash', quote(att.ifName));
  if (!isBatchSafe(att.netns)) throw envError('CNI_NETNS contains whitespace, a quote, # or backslash', quote(att.netns));
  return { command: command as 'ADD' | 'CHECK', env: { ...base, netns: att.netns }, config };
}
