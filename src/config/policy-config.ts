/**
 * The daemon config's `policy` section: which NetworkPolicy backend runs on the node and what the hub needs to
 * render it. Pure; one validator per concept, each ConfigError naming the field path and the value.
 *
 * Only the syntax is checked here. Whether a backend can run in the node's mode (ipvlan + felix, a Cilium build
 * that cannot chain on ipvlan, an unsupported version, a missing binary) is the backend's `check` in src/policy:
 * those depend on the mode, which can change at run time through the `eni-config` ConfigMap, and are reported as
 * refusals, not as a config that fails to load.
 */
import { ConfigError } from '../lib/errors.js';
import { quote } from '../lib/text.js';
import { absolutePathProblem } from '../lib/validate/paths.js';
import { asObj, isObj, kindOf, type Obj } from './fields.js';

/**
 * `auto` picks by mode (src/policy/choose.ts). `builtin` is the hub's own nftables enforcement, run inside the
 * daemon (src/daemon/policy/enforcer.ts). A new name is added here and registered in src/policy/registry.ts.
 */
export const POLICY_BACKEND_CHOICES = ['auto', 'felix', 'cilium', 'builtin', 'none'] as const;
export type PolicyBackendChoice = (typeof POLICY_BACKEND_CHOICES)[number];

export const CILIUM_BUILDS = ['upstream', 'terway-chainer'] as const;
export type CiliumBuild = (typeof CILIUM_BUILDS)[number];

/** The chainers the hub offers: generic-veth (upstream, veth pods) and Terway's terway-chainer (its fork only). */
export const CILIUM_CHAINING_MODES = ['generic-veth', 'terway-chainer'] as const;
export type CiliumChainingMode = (typeof CILIUM_CHAINING_MODES)[number];

/** A FelixConfiguration spec value as YAML gives it; checked field by field by the felix backend. */
export type FelixSpecValue = string | number | boolean;

export interface FelixSettings {
  /** Absolute path of `calico-felix`; the felix backend refuses to run without it. */
  readonly binary?: string;
  /** Calico release of that binary, e.g. `v3.28.2` (a `v` is optional). */
  readonly version?: string;
  readonly healthPort: number;
  /** Extra FelixConfiguration `default` spec fields (camelCase, as the CRD names them). */
  readonly felixConfiguration?: Readonly<Record<string, FelixSpecValue>>;
}

export interface CiliumSettings {
  readonly agentBinary?: string;
  /** The CNI plugin's `type` in the conflist: the file name of the cilium-cni binary in the CNI bin dir. */
  readonly cniBinary: string;
  /** Cilium release the agent is built from, e.g. `1.18.10`. */
  readonly version?: string;
  readonly build: CiliumBuild;
  /** The fork's own tag (terway-chainer builds), e.g. `v1.12.7-terway.2`: named in status and refusals. */
  readonly buildVersion?: string;
  readonly healthPort: number;
  readonly chainingMode: CiliumChainingMode;
}

export interface PolicyConfig {
  readonly backend: PolicyBackendChoice;
  readonly felix: FelixSettings;
  readonly cilium: CiliumSettings;
}

export const DEFAULT_FELIX_HEALTH_PORT = 9099;
export const DEFAULT_CILIUM_HEALTH_PORT = 9879;

export const DEFAULT_POLICY_CONFIG: PolicyConfig = {
  backend: 'auto',
  felix: { healthPort: DEFAULT_FELIX_HEALTH_PORT },
  cilium: { cniBinary: 'cilium-cni', build: 'upstream', healthPort: DEFAULT_CILIUM_HEALTH_PORT, chainingMode: 'generic-veth' },
};

const VERSION = /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/u;
const BUILD_VERSION = /^[0-9A-Za-z][0-9A-Za-z._+-]{0,127}$/u;
/** libcni's plugin type is a file name in the CNI bin dir. */
const CNI_TYPE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/u;
const FELIX_SPEC_KEY = /^[a-z][A-Za-z0-9]*$/u;

export function parsePolicyConfig(raw: unknown, path = 'policy'): PolicyConfig {
  if (raw === undefined) return DEFAULT_POLICY_CONFIG;
  const o = asObj(raw, path);
  onlyKeys(o, path, ['backend', 'felix', 'cilium']);
  return {
    backend: backendChoice(o.backend, `${path}.backend`),
    felix: parseFelix(o.felix, `${path}.felix`),
    cilium: parseCilium(o.cilium, `${path}.cilium`),
  };
}

export function backendChoice(raw: unknown, path: string): PolicyBackendChoice {
  if (raw === undefined) return DEFAULT_POLICY_CONFIG.backend;
  if (typeof raw !== 'string' || !(POLICY_BACKEND_CHOICES as readonly string[]).includes(raw)) {
    throw new ConfigError(path, `must be one of ${POLICY_BACKEND_CHOICES.join(', ')}; got ${quote(raw)}`);
  }
  return raw as PolicyBackendChoice;
}

function parseFelix(raw: unknown, path: string): FelixSettings {
  if (raw === undefined) return DEFAULT_POLICY_CONFIG.felix;
  const o = asObj(raw, path);
  onlyKeys(o, path, ['binary', 'version', 'healthPort', 'felixConfiguration']);
  const binary = executablePath(o.binary, `${path}.binary`);
  const version = releaseVersion(o.version, `${path}.version`);
  const spec = felixSpec(o.felixConfiguration, `${path}.felixConfiguration`);
  return {
    healthPort: healthPort(o.healthPort, `${path}.healthPort`, DEFAULT_FELIX_HEALTH_PORT),
    ...(binary !== undefined ? { binary } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(spec !== undefined ? { felixConfiguration: spec } : {}),
  };
}

function parseCilium(raw: unknown, path: string): CiliumSettings {
  if (raw === undefined) return DEFAULT_POLICY_CONFIG.cilium;
  const o = asObj(raw, path);
  onlyKeys(o, path, ['agentBinary', 'cniBinary', 'version', 'build', 'buildVersion', 'healthPort', 'chainingMode']);
  const agentBinary = executablePath(o.agentBinary, `${path}.agentBinary`);
  const version = releaseVersion(o.version, `${path}.version`);
  const build = oneOf(o.build, `${path}.build`, CILIUM_BUILDS) ?? 'upstream';
  const buildVersion = buildTag(o.buildVersion, `${path}.buildVersion`);
  if (build === 'upstream' && buildVersion !== undefined) {
    throw new ConfigError(`${path}.buildVersion`, `only a terway-chainer build has its own version (upstream is named by ${path}.version); got ${quote(buildVersion)}`);
  }
  const chainingMode = oneOf(o.chainingMode, `${path}.chainingMode`, CILIUM_CHAINING_MODES) ?? (build === 'upstream' ? 'generic-veth' : 'terway-chainer');
  if (build === 'upstream' && chainingMode === 'terway-chainer') {
    throw new ConfigError(`${path}.chainingMode`, 'terway-chainer exists only in Terway\'s patched Cilium; set build: terway-chainer (with its buildVersion), or use generic-veth');
  }
  return {
    cniBinary: cniType(o.cniBinary, `${path}.cniBinary`),
    build,
    healthPort: healthPort(o.healthPort, `${path}.healthPort`, DEFAULT_CILIUM_HEALTH_PORT),
    chainingMode,
    ...(agentBinary !== undefined ? { agentBinary } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(buildVersion !== undefined ? { buildVersion } : {}),
  };
}

/** An executable named by absolute path: the supervisor execs it directly (no PATH lookup, no shell). */
export function executablePath(raw: unknown, path: string): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw new ConfigError(path, `must be an absolute path; got ${kindOf(raw)}`);
  const problem = absolutePathProblem(raw);
  if (problem !== undefined) throw new ConfigError(path, `${problem}; got ${quote(raw)}`);
  if (raw.endsWith('/')) throw new ConfigError(path, `must name a file, not a directory; got ${quote(raw)}`);
  return raw;
}

/** A release version `MAJOR.MINOR.PATCH`, optionally with a leading `v` and a pre-release/build suffix. */
export function releaseVersion(raw: unknown, path: string): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !VERSION.test(raw)) throw new ConfigError(path, `must be a release version like "v3.28.2" or "1.18.10"; got ${quote(raw)}`);
  return raw;
}

function buildTag(raw: unknown, path: string): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !BUILD_VERSION.test(raw)) throw new ConfigError(path, `must be an image tag (1-128 of A-Z a-z 0-9 . _ + -); got ${quote(raw)}`);
  return raw;
}

/** A TCP port on 127.0.0.1 for the backend's health endpoint. */
export function healthPort(raw: unknown, path: string, dflt: number): number {
  if (raw === undefined) return dflt;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > 65535) throw new ConfigError(path, `must be a TCP port in 1..65535; got ${quote(raw)}`);
  return raw;
}

function cniType(raw: unknown, path: string): string {
  if (raw === undefined) return DEFAULT_POLICY_CONFIG.cilium.cniBinary;
  if (typeof raw !== 'string' || !CNI_TYPE.test(raw)) throw new ConfigError(path, `must be a CNI plugin file name (no "/"); got ${quote(raw)}`);
  return raw;
}

function oneOf<T extends string>(raw: unknown, path: string, values: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw)) throw new ConfigError(path, `must be one of ${values.join(', ')}; got ${quote(raw)}`);
  return raw as T;
}

/** The shape only (camelCase keys, scalar values); each field's type and value are the felix backend's check. */
function felixSpec(raw: unknown, path: string): Readonly<Record<string, FelixSpecValue>> | undefined {
  if (raw === undefined) return undefined;
  const o = asObj(raw, path);
  const out: Record<string, FelixSpecValue> = {};
  for (const [k, v] of Object.entries(o)) {
    if (!FELIX_SPEC_KEY.test(k)) throw new ConfigError(`${path}.${k}`, 'not a FelixConfiguration spec field name (camelCase, as in the CRD)');
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new ConfigError(`${path}.${k}`, `must be a string, number or boolean; got ${isObj(v) ? 'an object' : kindOf(v)}`);
    }
    out[k] = v;
  }
  return out;
}

function onlyKeys(o: Obj, path: string, known: readonly string[]): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new ConfigError(`${path}.${k}`, `unknown field (known: ${known.join(', ')})`);
}
