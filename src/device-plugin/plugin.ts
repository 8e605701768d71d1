/**
 * The kubelet device plugin for exclusive-ENI pods (Terway §8): serves v1beta1 `DevicePlugin` on
 * `<dir>/<socketName>`, registers `aliyun/eni` with kubelet on `<dir>/kubelet.sock`, advertises `eni-0..N-1`
 * (all Healthy) on ListAndWatch and resends the list when the capacity changes. When kubelet restarts it removes
 * plugin sockets and recreates kubelet.sock: a watch on the directory plus a periodic check re-serve the socket if
 * it vanished and register again whenever kubelet.sock is new (another inode than the one registered with).
 */
import * as grpc from '@grpc/grpc-js';
import { watch, type FSWatcher } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, UnavailableError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import {
  API_VERSION,
  DEFAULT_DEVICE_PLUGIN_DIR,
  KUBELET_SOCKET,
  loadDevicePluginApi,
  unixAddress,
  type AllocateRequest,
  type AllocateResponse,
  type DevicePluginOptionsMsg,
  type Empty,
  type ListAndWatchResponse,
  type PreferredAllocationRequest,
  type PreferredAllocationResponse,
  type PreStartContainerRequest,
  type RegisterRequest,
} from './api.js';
import { eniDevices, preferredAllocation } from './devices.js';

export const ENI_RESOURCE = 'aliyun/eni';
export const ENI_SOCKET = 'terway-hub-eni.sock';

export interface DevicePluginOptions {
  /** Exclusive-ENI pods this node can take. */
  readonly capacity: number;
  readonly log: Logger;
  readonly resourceName?: string;
  /** Kubelet's device plugin directory (kubelet.sock and the plugin sockets). */
  readonly dir?: string;
  readonly socketName?: string;
  /** Periodic re-check of both sockets (the directory watch is the fast path). */
  readonly checkIntervalMs?: number;
  readonly registerTimeoutMs?: number;
  /** Watch the directory (default true); without it only the periodic check notices kubelet restarts. */
  readonly watch?: boolean;
}

const OPTIONS: DevicePluginOptionsMsg = { pre_start_required: false, get_preferred_allocation_available: true };

async function inode(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isSocket() ? s.ino : undefined;
  } catch {
    return undefined;
  }
}

/** A NodeComponent (name/start/stop) of the daemon. */
export class EniDevicePlugin {
  readonly name = 'device-plugin';
  readonly resourceName: string;
  readonly dir: string;
  readonly socketName: string;
  readonly #log: Logger;
  readonly #checkMs: number;
  readonly #registerTimeoutMs: number;
  readonly #watch: boolean;
  #capacity: number;
  #server: grpc.Server | undefined;
  #servedIno: number | undefined;
  #registeredIno: number | undefined;
  #registrations = 0;
  readonly #streams = new Set<grpc.ServerWritableStream<Empty, ListAndWatchResponse>>();
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #started = false;

  constructor(opts: DevicePluginOptions) {
    if (!Number.isInteger(opts.capacity) || opts.capacity < 0) throw new ConfigError('devicePlugin.capacity', `must be a non-negative integer, got ${String(opts.capacity)}`);
    this.#capacity = opts.capacity;
    this.#log = opts.log;
    this.resourceName = opts.resourceName ?? ENI_RESOURCE;
    this.dir = opts.dir ?? DEFAULT_DEVICE_PLUGIN_DIR;
    this.socketName = opts.socketName ?? ENI_SOCKET;
    if (this.socketName.includes('/') || this.socketName === KUBELET_SOCKET) throw new ConfigError('devicePlugin.socketName', `invalid socket name ${JSON.stringify(this.socketName)}`);
    this.#checkMs = opts.checkIntervalMs ?? 5_000;
    this.#registerTimeoutMs = opts.registerTimeoutMs ?? 5_000;
    this.#watch = opts.watch ?? true;
  }

  get socketPath(): string {
    return join(this.dir, this.socketName);
  }

  get kubeletSocketPath(): string {
    return join(this.dir, KUBELET_SOCKET);
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Successful Register calls so far. */
  get registrations(): number {
    return this.#registrations;
  }

  get registered(): boolean {
    return this.#registeredIno !== undefined;
  }

  /** Serves the socket and registers if kubelet is there; otherwise waits for kubelet.sock (does not fail). */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#watch) this.#watchDir();
    this.#timer = setInterval(() => { this.#schedule(0); }, this.#checkMs);
    this.#timer.unref();
    // serving happens in the check: a missing directory (kubelet not installed yet) is retried, never fatal
    await this.reconcile().catch((e: unknown) => {
      this.#log.warn('device plugin: not serving yet; will retry', { dir: this.dir, err: errorMessage(e) });
    });
  }

  #watchDir(): void {
    try {
      this.#watcher = watch(this.dir, () => { this.#schedule(); });
      this.#watcher.on('error', (e) => { this.#log.warn('device plugin: directory watch failed; periodic check only', { err: errorMessage(e) }); });
    } catch (e) {
      this.#log.warn('device plugin: cannot watch directory; periodic check only', { dir: this.dir, err: errorMessage(e) });
    }
  }

  /** Changes the advertised capacity; open ListAndWatch streams get the new list. */
  setCapacity(capacity: number): void {
    if (!Number.isInteger(capacity) || capacity < 0) throw new ConfigError('devicePlugin.capacity', `must be a non-negative integer, got ${String(capacity)}`);
    if (capacity === this.#capacity) return;
    this.#capacity = capacity;
    this.#log.info('device plugin: capacity changed', { resource: this.resourceName, capacity });
    for (const s of this.#streams) s.write(this.#list());
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#watcher?.close();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    await this.#running?.catch(() => undefined);
    await this.#shutdownServer();
    this.#registeredIno = undefined;
    this.#log.info('device plugin stopped', { resource: this.resourceName });
  }

  /** One check of both sockets (serialised; a request while one runs schedules one more). */
  reconcile(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    const run = (async () => {
      do {
        this.#again = false;
        await this.#reconcileOnce();
      } while (this.#rerunRequested());
    })().finally(() => {
      this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  #rerunRequested(): boolean {
    return this.#again && this.#started;
  }

  #schedule(delayMs = 50): void {
    if (!this.#started) return;
    if (this.#debounce !== undefined) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.reconcile().catch((e: unknown) => { this.#log.warn('device plugin: check failed', { err: errorMessage(e) }); });
    }, delayMs);
  }

  async #reconcileOnce(): Promise<void> {
    if (!this.#started) return;
    const own = await inode(this.socketPath);
    if (own === undefined || own !== this.#servedIno) {
      this.#log.info('device plugin: socket missing or replaced; serving again', { socket: this.socketPath });
      await this.#serve();
      this.#registeredIno = undefined;
    }
    const kubelet = await inode(this.kubeletSocketPath);
    if (kubelet === undefined) {
      if (this.#registeredIno !== undefined) this.#log.info('device plugin: kubelet.sock gone; waiting for kubelet', { dir: this.dir });
      this.#registeredIno = undefined;
      return;
    }
    if (kubelet === this.#registeredIno) return;
    try {
      await this.#register();
      this.#registeredIno = kubelet;
      this.#registrations += 1;
      this.#log.info('device plugin registered', { resource: this.resourceName, endpoint: this.socketName, capacity: this.#capacity });
    } catch (e) {
      this.#log.warn('device plugin: registration failed; will retry', { err: errorMessage(e) });
    }
  }

  #list(): ListAndWatchResponse {
    return { devices: eniDevices(this.#capacity) };
  }

  async #serve(): Promise<void> {
    await this.#shutdownServer();
    await unlink(this.socketPath).catch(() => undefined); // our own stale socket only
    const api = loadDevicePluginApi();
    const server = new grpc.Server();
    server.addService(api.devicePlugin.service, this.#handlers());
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(unixAddress(this.socketPath), grpc.ServerCredentials.createInsecure(), (err) => {
        if (err) reject(new UnavailableError(`cannot serve ${this.socketPath}: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
    this.#server = server;
    this.#servedIno = await inode(this.socketPath);
    this.#log.info('device plugin serving', { socket: this.socketPath });
  }

  async #shutdownServer(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#servedIno = undefined;
    for (const s of this.#streams) s.end();
    this.#streams.clear();
    if (server !== undefined) {
      server.forceShutdown();
      await unlink(this.socketPath).catch(() => undefined);
    }
  }

  #register(): Promise<void> {
    const api = loadDevicePluginApi();
    const client = new api.registration(unixAddress(this.kubeletSocketPath), grpc.credentials.createInsecure());
    const req: RegisterRequest = { version: API_VERSION, endpoint: this.socketName, resource_name: this.resourceName, options: OPTIONS };
    const method = api.registration.service.Register;
    if (method === undefined) return Promise.reject(new UnavailableError('api.proto: Registration.Register missing'));
    return new Promise<void>((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        req,
        { deadline: Date.now() + this.#registerTimeoutMs },
        (err: grpc.ServiceError | null) => {
          client.close();
          if (err) reject(new UnavailableError(`kubelet Register: ${err.details || err.message}`, { cause: err }));
          else resolve();
        },
      );
    });
  }

  #handlers(): grpc.UntypedServiceImplementation {
    const getDevicePluginOptions: grpc.handleUnaryCall<Empty, DevicePluginOptionsMsg> = (_call, cb) => { cb(null, OPTIONS); };
    const listAndWatch: grpc.handleServerStreamingCall<Empty, ListAndWatchResponse> = (call) => {
      this.#streams.add(call);
      const drop = (): void => {
        this.#streams.delete(call);
      };
      call.on('cancelled', drop);
      call.on('close', drop);
      call.on('error', drop);
      call.write(this.#list());
      this.#log.debug('device plugin: ListAndWatch opened', { devices: this.#capacity });
    };
    const getPreferredAllocation: grpc.handleUnaryCall<PreferredAllocationRequest, PreferredAllocationResponse> = (call, cb) => { cb(null, preferredAllocation(call.request)); };
    const allocate: grpc.handleUnaryCall<AllocateRequest, AllocateResponse> = (call, cb) => {
      const known = new Set(eniDevices(this.#capacity).map((d) => d.ID));
      const unknown = call.request.container_requests.flatMap((c) => c.devices_ids).filter((id) => !known.has(id));
      if (unknown.length > 0) {
        cb({ code: grpc.status.INVALID_ARGUMENT, details: `unknown device(s) ${unknown.join(', ')}` });
        return;
      }
      this.#log.info('device plugin: allocate', { containers: call.request.container_requests.length });
      cb(null, { container_responses: call.request.container_requests.map(() => ({})) });
    };
    const preStartContainer: grpc.handleUnaryCall<PreStartContainerRequest, Empty> = (_call, cb) => { cb(null, {}); };
    return {
      GetDevicePluginOptions: getDevicePluginOptions,
      ListAndWatch: listAndWatch,
      GetPreferredAllocation: getPreferredAllocation,
      Allocate: allocate,
      PreStartContainer: preStartContainer,
    };
  }
}
