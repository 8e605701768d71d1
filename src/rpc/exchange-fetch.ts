/**
 * The plugin's HttpExchange (./client.ts): bun's native `fetch` over the daemon's unix socket (the `unix` option,
 * HTTP/1.1). Costs ≈ 1 ms of plugin start-up, against ≈ 6.7 ms for the HTTP/2 + HPACK client it replaced and ≈ 2 ms
 * for merely importing node:net (docs/adr/0006-plugin-daemon-http1.md). Undefined outside bun: Node.js's fetch
 * cannot reach a unix socket (those callers use ./exchange-node.ts).
 */
import { bunGlobal } from '../lib/bun.js';
import type { HttpExchange } from './client.js';

/** Bun's RequestInit extension. */
interface UnixRequestInit extends RequestInit {
  readonly unix: string;
}

export function createFetchExchange(): HttpExchange | undefined {
  if (bunGlobal() === undefined) return undefined;
  return async (req) => {
    const init: UnixRequestInit = {
      unix: req.socketPath,
      method: req.method,
      headers: req.headers,
      signal: req.signal,
      ...(req.body !== undefined ? { body: req.body } : {}),
    };
    const res = await fetch(`http://localhost${req.path}`, init);
    return { status: res.status, body: await res.text() };
  };
}
