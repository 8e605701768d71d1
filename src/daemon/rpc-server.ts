/**
 * The gRPC server of service `terwayhub.v1.Hub` on a unix socket (dir 0700, socket 0600), JSON codec.
 * Parses every request (src/rpc/messages.ts), honours the call deadline, and maps errors to a status once.
 */
import * as grpc from '@grpc/grpc-js';
import { chmod, mkdir, mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UnavailableError, errorMessage } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { parseAllocateRequest, parseConfirmRequest, parseGcRequest, parseLookupRequest, parsePolicyModelRequest, parsePolicyVerifyRequest, parseReleaseRequest, parseStatusRequest } from '../rpc/messages.js';
import { GrpcStatus, METHODS, type MethodName, type PolicyModelReply, type PolicyVerifyReply } from '../rpc/protocol.js';
import { grpcStatusName, grpcStatusOf } from './grpc-status.js';
import { deserializeJson, serializeJson } from './json-codec.js';
import type { HubService } from './service.js';

type Handler = (raw: unknown, signal: AbortSignal) => Promise<unknown>;

const GRPC_NAMES: Record<MethodName, string> = { allocate: 'Allocate', lookup: 'Lookup', release: 'Release', confirm: 'Confirm', status: 'Status', gc: 'Gc', policyModel: 'PolicyModel', policyVerify: 'PolicyVerify' };

/** The operator calls beyond the service (absent: the daemon answers them with an empty model). */
export interface AdminSources {
  readonly policyModel: () => PolicyModelReply;
  readonly policyVerify: () => Promise<PolicyVerifyReply>;
}

const NO_ADMIN: AdminSources = {
  policyModel: () => ({ kubernetes: false, nodeName: '', objects: [], refused: [] }),
  policyVerify: () => Promise.resolve({ backend: 'none', scopes: [], drift: ['this daemon runs no NetworkPolicy backend'] }),
};

export function hubServiceDefinition(): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, path] of Object.entries(METHODS) as [MethodName, string][]) {
    def[GRPC_NAMES[name]] = {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: serializeJson,
      requestDeserialize: deserializeJson,
      responseSerialize: serializeJson,
      responseDeserialize: deserializeJson,
    };
  }
  return def;
}

function handlersFor(service: HubService, admin: AdminSources): Record<MethodName, Handler> {
  return {
    allocate: (raw, signal) => service.allocate(parseAllocateRequest(raw), signal),
    lookup: (raw) => service.lookup(parseLookupRequest(raw)),
    release: (raw) => service.release(parseReleaseRequest(raw)),
    confirm: (raw) => service.confirm(parseConfirmRequest(raw)),
    status: (raw) => {
      parseStatusRequest(raw);
      return service.status();
    },
    gc: (raw) => service.gc(parseGcRequest(raw)),
    policyModel: (raw) => {
      parsePolicyModelRequest(raw);
      return Promise.resolve(admin.policyModel());
    },
    policyVerify: (raw) => {
      parsePolicyVerifyRequest(raw);
      return admin.policyVerify();
    },
  };
}

const GRPC_CODES = new Map<number, grpc.status>(
  Object.values(grpc.status)
    .filter((v): v is grpc.status => typeof v === 'number')
    .map((v) => [v, v]),
);

function toGrpcCode(code: number): grpc.status {
  return GRPC_CODES.get(code) ?? grpc.status.INTERNAL;
}

function deadlineMs(call: grpc.ServerUnaryCall<unknown, unknown>): number {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : Infinity;
}

export class HubRpcServer {
  readonly #service: HubService;
  readonly #log: Logger;
  readonly #server: grpc.Server;
  #socket: string | undefined;

  constructor(service: HubService, log: Logger = silentLogger, admin: AdminSources = NO_ADMIN) {
    this.#service = service;
    this.#log = log;
    this.#server = new grpc.Server();
    const handlers = handlersFor(service, admin);
    const impl: grpc.UntypedServiceImplementation = {};
    for (const name of Object.keys(METHODS) as MethodName[]) {
      impl[GRPC_NAMES[name]] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        void this.#handle(name, handlers[name], call, cb);
      };
    }
    this.#server.addService(hubServiceDefinition(), impl);
  }

  async #handle(name: MethodName, handler: Handler, call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>): Promise<void> {
    const started = process.hrtime.bigint();
    const done = (code: number, reply: unknown, details = ''): void => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.#service.metrics.rpcDuration.observe({ method: name, result: grpcStatusName(code) }, seconds);
      if (code === GrpcStatus.OK) cb(null, reply);
      else cb({ code: toGrpcCode(code), details, metadata: new grpc.Metadata() }, null);
    };
    const deadline = deadlineMs(call);
    const ac = new AbortController();
    call.on('cancelled', () => {
      ac.abort();
    });
    let timer: NodeJS.Timeout | undefined;
    if (deadline !== Infinity) {
      const left = deadline - Date.now();
      if (left <= 0) {
        done(GrpcStatus.DEADLINE_EXCEEDED, null, 'deadline exceeded before the request was handled');
        return;
      }
      timer = setTimeout(() => { ac.abort(); }, left);
    }
    try {
      const reply = await handler(call.request, ac.signal);
      if (ac.signal.aborted) {
        done(GrpcStatus.DEADLINE_EXCEEDED, null, 'deadline exceeded');
        return;
      }
      done(GrpcStatus.OK, reply);
    } catch (e) {
      if (ac.signal.aborted && e instanceof UnavailableError) {
        done(GrpcStatus.DEADLINE_EXCEEDED, null, errorMessage(e));
        return;
      }
      const { code, details } = grpcStatusOf(e);
      if (code === GrpcStatus.INTERNAL) this.#log.error('rpc failed', { method: name, err: e });
      else this.#log.info('rpc refused', { method: name, code: grpcStatusName(code), details });
      done(code, null, details);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /**
   * Binds `unix://<socket>` without touching the process-wide umask: the socket is bound inside a fresh 0700
   * directory beside its final path (unreachable by others whatever its own mode), chmodded 0600, then renamed over
   * the final path (atomic; replaces a stale socket). The socket's directory is created 0700 when missing (an
   * existing one is never chmodded: the socket could sit in /run).
   */
  async listen(socket: string): Promise<void> {
    const dir = dirname(socket);
    const created = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (created !== undefined) await chmod(dir, 0o700);
    const staging = await mkdtemp(join(dir, '.bind-')); // mode 0700
    const staged = join(staging, 'sock');
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.bindAsync(`unix://${staged}`, grpc.ServerCredentials.createInsecure(), (err) => {
          if (err) reject(err);
          else resolve();
        });
      });
      await chmod(staged, 0o600);
      await rename(staged, socket);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    this.#socket = socket;
    this.#log.info('rpc serving', { socket });
  }

  /** Graceful shutdown (in-flight calls finish), forced after `graceMs`; removes the socket. */
  async close(graceMs = 5000): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.#server.forceShutdown();
        resolve();
      }, graceMs);
      this.#server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
    if (this.#socket !== undefined) await unlink(this.#socket).catch(() => undefined);
    this.#socket = undefined;
  }
}
