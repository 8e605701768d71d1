/**
 * The kubelet device plugin API v1beta1, loaded from ./api.proto (copied next to the compiled module by the build),
 * with field names kept as in the proto (`resource_name`, `devices_ids`). Message types mirror the proto.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../lib/errors.js';

export const API_VERSION = 'v1beta1';
export const DEFAULT_DEVICE_PLUGIN_DIR = '/var/lib/kubelet/device-plugins';
export const KUBELET_SOCKET = 'kubelet.sock';
export const HEALTHY = 'Healthy';

export type Empty = Record<string, never>;

export interface DevicePluginOptionsMsg {
  readonly pre_start_required: boolean;
  readonly get_preferred_allocation_available: boolean;
}
export interface RegisterRequest {
  readonly version: string;
  readonly endpoint: string;
  readonly resource_name: string;
  readonly options?: DevicePluginOptionsMsg;
}
export interface Device {
  readonly ID: string;
  readonly health: string;
}
export interface ListAndWatchResponse {
  readonly devices: readonly Device[];
}
export interface ContainerAllocateRequest {
  readonly devices_ids: readonly string[];
}
export interface AllocateRequest {
  readonly container_requests: readonly ContainerAllocateRequest[];
}
export interface ContainerAllocateResponse {
  readonly envs?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}
export interface AllocateResponse {
  readonly container_responses: readonly ContainerAllocateResponse[];
}
export interface ContainerPreferredAllocationRequest {
  readonly available_deviceIDs: readonly string[];
  readonly must_include_deviceIDs: readonly string[];
  readonly allocation_size: number;
}
export interface PreferredAllocationRequest {
  readonly container_requests: readonly ContainerPreferredAllocationRequest[];
}
export interface PreferredAllocationResponse {
  readonly container_responses: readonly { readonly deviceIDs: readonly string[] }[];
}
export interface PreStartContainerRequest {
  readonly devices_ids: readonly string[];
}

export interface DevicePluginApi {
  readonly registration: grpc.ServiceClientConstructor;
  readonly devicePlugin: grpc.ServiceClientConstructor;
}

export const PROTO_URL = new URL('./api.proto', import.meta.url);

let cached: DevicePluginApi | undefined;

function isGrpcObject(x: unknown): x is grpc.GrpcObject {
  return typeof x === 'object' && x !== null;
}

function serviceOf(pkg: grpc.GrpcObject, name: string): grpc.ServiceClientConstructor {
  const ctor = pkg[name];
  if (typeof ctor !== 'function' || !('service' in ctor)) throw new InternalError(`api.proto: service v1beta1.${name} missing`);
  return ctor;
}

/** Loads (once) the v1beta1 services. */
export function loadDevicePluginApi(): DevicePluginApi {
  if (cached !== undefined) return cached;
  let def: protoLoader.PackageDefinition;
  try {
    def = protoLoader.loadSync(fileURLToPath(PROTO_URL), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  } catch (e) {
    throw new InternalError(`cannot load ${fileURLToPath(PROTO_URL)} (is api.proto copied next to the module?)`, { cause: e });
  }
  const root = grpc.loadPackageDefinition(def);
  const pkg = root[API_VERSION];
  if (!isGrpcObject(pkg) || typeof pkg === 'function') throw new InternalError('api.proto: package v1beta1 missing');
  cached = { registration: serviceOf(pkg, 'Registration'), devicePlugin: serviceOf(pkg, 'DevicePlugin') };
  return cached;
}

/** grpc-js address of a unix socket path. */
export function unixAddress(path: string): string {
  return `unix://${path}`;
}
