/** A fake kubelet: serves v1beta1 Registration on `<dir>/kubelet.sock` and dials plugins back like kubelet does. */
import * as grpc from '@grpc/grpc-js';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { KUBELET_SOCKET, loadDevicePluginApi, unixAddress, type AllocateResponse, type DevicePluginOptionsMsg, type ListAndWatchResponse, type RegisterRequest } from '../../../src/device-plugin/api.js';
import { waitFor } from '../../helpers/wait.js';

export class FakeKubelet {
  readonly registrations: RegisterRequest[] = [];
  #server: grpc.Server | undefined;
  #waiters: (() => void)[] = [];
  constructor(readonly dir: string) {}

  get socket(): string {
    return join(this.dir, KUBELET_SOCKET);
  }

  async start(): Promise<void> {
    const api = loadDevicePluginApi();
    const server = new grpc.Server();
    const register: grpc.handleUnaryCall<RegisterRequest, Record<string, never>> = (call, cb) => {
      this.registrations.push(call.request);
      cb(null, {});
      for (const w of this.#waiters.splice(0)) w();
    };
    server.addService(api.registration.service, { Register: register });
    await new Promise<void>((resolve, reject) => { server.bindAsync(unixAddress(this.socket), grpc.ServerCredentials.createInsecure(), (e) => { if (e) reject(e); else resolve(); }); });
    this.#server = server;
  }

  /** Like a kubelet restart: server gone, kubelet.sock removed. */
  async stop(): Promise<void> {
    this.#server?.forceShutdown();
    this.#server = undefined;
    await unlink(this.socket).catch(() => undefined);
  }

  /** Resolves when the registration count reaches n. */
  waitForRegistrations(n: number, timeoutMs = 5000): Promise<void> {
    if (this.registrations.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { reject(new Error(`only ${String(this.registrations.length)} registrations after ${String(timeoutMs)} ms, want ${String(n)}`)); }, timeoutMs);
      const check = (): void => {
        if (this.registrations.length >= n) {
          clearTimeout(t);
          resolve();
        } else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }
}

/** Kubelet's side of the plugin connection. */
export class PluginClient {
  readonly #client: grpc.Client;
  readonly #api = loadDevicePluginApi();
  constructor(socket: string) {
    this.#client = new this.#api.devicePlugin(unixAddress(socket), grpc.credentials.createInsecure());
  }

  #method(name: string): grpc.MethodDefinition<unknown, unknown> {
    const m = this.#api.devicePlugin.service[name];
    if (!m) throw new Error(`no method ${name}`);
    return m;
  }

  unary<Res>(name: string, req: unknown): Promise<Res> {
    const m = this.#method(name);
    return new Promise((resolve, reject) =>
      this.#client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, (err, res) => { if (err) reject(err); else resolve(res as Res); }),
    );
  }

  options(): Promise<DevicePluginOptionsMsg> {
    return this.unary('GetDevicePluginOptions', {});
  }

  allocate(ids: string[][]): Promise<AllocateResponse> {
    return this.unary('Allocate', { container_requests: ids.map((devices_ids) => ({ devices_ids })) });
  }

  /** Opens ListAndWatch; every message is pushed to `messages`. */
  listAndWatch(): { messages: ListAndWatchResponse[]; next: (n: number, timeoutMs?: number) => Promise<ListAndWatchResponse>; cancel: () => void } {
    const m = this.#method('ListAndWatch');
    const stream = this.#client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, {});
    const messages: ListAndWatchResponse[] = [];
    stream.on('data', (d: ListAndWatchResponse) => messages.push(d));
    stream.on('error', () => undefined);
    const next = async (n: number, timeoutMs = 3000): Promise<ListAndWatchResponse> => {
      await waitFor(() => messages.length >= n, { timeoutMs, stepMs: 20, what: () => `ListAndWatch: ${String(messages.length)} messages, want ${String(n)}` });
      const msg = messages[n - 1];
      if (!msg) throw new Error('unreachable');
      return msg;
    };
    return { messages, next, cancel: () => { stream.cancel(); } };
  }

  close(): void {
    this.#client.close();
  }
}
