/** stdout encodings: the ADD result per cniVersion, the VERSION answer and the error object. Pure. */
import type { IpAddr, MacAddr, NetnsPath } from '../lib/brand.js';
import { clip } from '../lib/text.js';
import { LINK_LOCAL_GW } from '../modes/types.js';
import type { CniError } from './errors.js';
import { SUPPORTED_VERSIONS, compareVersions, ipsCarryVersion, type CniVersion } from './spec.js';

export interface AddOutcome {
  readonly host: { readonly name: string; readonly mac: MacAddr };
  readonly pod: { readonly name: string; readonly mac: MacAddr; readonly sandbox: NetnsPath; readonly mtu: number };
  readonly ip: IpAddr;
  /** Further interfaces the attachment created (the host ifb of egress shaping), listed after the pod's. */
  readonly created?: readonly { readonly name: string; readonly mac: MacAddr; readonly sandbox?: NetnsPath }[];
}

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
export interface AddResult {
  readonly cniVersion: CniVersion;
  readonly interfaces: readonly ResultInterface[];
  readonly ips: readonly ResultIp[];
  readonly routes: readonly { readonly dst: string; readonly gw: string }[];
  readonly dns: Readonly<Record<string, never>>;
}

/** Index of the pod interface in `interfaces`. */
const POD_IFACE = 1;

export function buildAddResult(version: CniVersion, out: AddOutcome): AddResult {
  // Interface `mtu` exists in the result format from 1.1.0 on.
  const withMtu = compareVersions(version, '1.1.0') >= 0;
  return {
    cniVersion: version,
    interfaces: [
      { name: out.host.name, mac: out.host.mac },
      { name: out.pod.name, mac: out.pod.mac, ...(withMtu ? { mtu: out.pod.mtu } : {}), sandbox: out.pod.sandbox },
      ...(out.created ?? []).map((i) => ({ name: i.name, mac: i.mac, ...(i.sandbox !== undefined ? { sandbox: i.sandbox } : {}) })),
    ],
    ips: [
      {
        ...(ipsCarryVersion(version) ? { version: '4' as const } : {}),
        interface: POD_IFACE,
        address: `${out.ip}/32`,
        gateway: LINK_LOCAL_GW,
      },
    ],
    routes: [{ dst: '0.0.0.0/0', gw: LINK_LOCAL_GW }],
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
