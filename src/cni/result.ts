/** stdout encodings: the ADD result per cniVersion, the VERSION answer and the error object. Pure. */
import { clip } from '../lib/text.js';
import type { AttachmentResult } from '../modes/types.js';
import type { CniError } from './errors.js';
import { SUPPORTED_VERSIONS, compareVersions, ipsCarryVersion, type CniVersion } from './spec.js';

export interface ResultInterface {
  readonly name: string;
  readonly mac: string;
  readonly mtu?: number;
  readonly sandbox?: string;
}
export interface ResultIp {
  readonly version?: '4';
  readonly interface: number;
  readonly address: string;
  readonly gateway: string;
}
export interface ResultRoute {
  readonly dst: string;
  readonly gw?: string;
}
export interface AddResult {
  readonly cniVersion: CniVersion;
  readonly interfaces: readonly ResultInterface[];
  readonly ips: readonly ResultIp[];
  readonly routes: readonly ResultRoute[];
  readonly dns: Readonly<Record<string, never>>;
}

/**
 * Formats what the dataplane reported (Dataplane.planSetup's `result`) in the config's version: interface `mtu`
 * exists from 1.1.0 on, `ips[].version` before 1.0.0.
 */
export function buildAddResult(version: CniVersion, out: AttachmentResult): AddResult {
  const withMtu = compareVersions(version, '1.1.0') >= 0;
  return {
    cniVersion: version,
    interfaces: out.interfaces.map((i) => ({
      name: i.name,
      mac: i.mac,
      ...(withMtu && i.mtu !== undefined ? { mtu: i.mtu } : {}),
      ...(i.sandbox !== undefined ? { sandbox: i.sandbox } : {}),
    })),
    ips: out.ips.map((ip) => ({
      ...(ipsCarryVersion(version) ? { version: '4' as const } : {}),
      interface: ip.interface,
      address: ip.address,
      gateway: ip.gateway,
    })),
    routes: out.routes.map((r) => ({ dst: r.dst, ...(r.gw !== undefined ? { gw: r.gw } : {}) })),
    dns: {},
  };
}

export interface VersionResult {
  readonly cniVersion: string;
  readonly supportedVersions: readonly string[];
}

export function buildVersionResult(inputVersion: string): VersionResult {
  return { cniVersion: inputVersion, supportedVersions: [...SUPPORTED_VERSIONS] };
}

export interface ErrorResult {
  readonly cniVersion: string;
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
}

/** Bound of msg and details on stdout: values inside are already quoted short (src/lib/text.ts); this is the backstop. */
const ERROR_TEXT_MAX = 4096;

export function buildErrorResult(version: string, err: CniError): ErrorResult {
  const details = err.details === undefined ? undefined : clip(err.details, ERROR_TEXT_MAX);
  return { cniVersion: version, code: err.code, msg: clip(err.msg, ERROR_TEXT_MAX), ...(details !== undefined ? { details } : {}) };
}
