/** A grpc-js client for the hub service with the same JSON codec (used by the CLI and tests; the plugin has its own). */
import * as grpc from '@grpc/grpc-js';
import { parseAllocateReply, parseConfirmReply, parseGcReply, parseLookupReply, parsePolicyModelReply, parsePolicyVerifyReply, parseReleaseReply, parseStatusReply } from '../rpc/messages.js';
import { METHODS, type HubAdminRpc, type HubRpc, type MethodName } from '../rpc/protocol.js';
import { deserializeJson, serializeJson } from './json-codec.js';

export class HubRpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`rpc failed (${String(code)}): ${details}`);
    this.name = 'HubRpcError';
  }
}

export interface HubClient extends HubRpc, HubAdminRpc {
  close(): void;
}

export function createHubClient(socket: string, timeoutMs = 10_000): HubClient {
  const client = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure());
  const call = <T>(method: MethodName, req: unknown, parse: (raw: unknown) => T): Promise<T> =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        METHODS[method],
        serializeJson,
        deserializeJson,
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, value) => {
          if (err) reject(new HubRpcError(err.code, err.details));
          else {
            try {
              resolve(parse(value));
            } catch (e) {
              reject(e instanceof Error ? e : new Error(String(e)));
            }
          }
        },
      );
    });
  return {
    allocate: (req) => call('allocate', req, parseAllocateReply),
    lookup: (req) => call('lookup', req, parseLookupReply),
    release: (req) => call('release', req, parseReleaseReply),
    confirm: (req) => call('confirm', req, parseConfirmReply),
    status: (req) => call('status', req, parseStatusReply),
    gc: (req) => call('gc', req, parseGcReply),
    policyModel: (req) => call('policyModel', req, parsePolicyModelReply),
    policyVerify: (req) => call('policyVerify', req, parsePolicyVerifyReply),
    close: () => { client.close(); },
  };
}
