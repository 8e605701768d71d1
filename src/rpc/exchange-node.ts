/**
 * The HttpExchange (./client.ts) of Node.js callers — the CLI, the tests — on node:http with `socketPath`: one
 * connection per request (no agent, so nothing keeps the process or the daemon's server alive afterwards). The
 * plugin binary does not load this file (it uses bun's fetch: ./exchange-fetch.ts).
 */
import { request } from 'node:http';
import { createRpcClient, type HttpExchange, type HubRpcClient } from './client.js';

export const nodeExchange: HttpExchange = (req) =>
  new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
    const r = request(
      {
        socketPath: req.socketPath,
        method: req.method,
        path: req.path,
        headers: { host: 'localhost', ...req.headers, ...(body !== undefined ? { 'content-length': String(body.length) } : {}) },
        agent: false,
        signal: req.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }); });
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(body);
  });

/** A client of the daemon at `socketPath` over node:http (the CLI's and the tests'). */
export function createNodeRpcClient(socketPath: string, timeoutMs = 10_000): HubRpcClient {
  return createRpcClient({ socketPath, timeoutMs, exchange: nodeExchange });
}
