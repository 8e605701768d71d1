/** /metrics, /healthz and /readyz on `httpListen` ("host:port" or a unix socket path). */
import { createServer, type Server } from 'node:http';
import { chmod, unlink } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import { errorMessage } from '../lib/errors.js';

export interface HttpProbe {
  readonly registry: Registry;
  /** True once the RPC server is serving. */
  serving(): boolean;
  /** Undefined when ready, else the reason. */
  notReadyReason(): string | undefined;
  /** Extra lines for /healthz and /readyz bodies (the policy backend's state); never changes their status. */
  detail?(): string | undefined;
}

export type ListenAddress = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

export function parseListen(raw: string): ListenAddress | undefined {
  if (raw === '') return undefined;
  if (raw.startsWith('unix://')) return { kind: 'unix', path: raw.slice('unix://'.length) };
  if (raw.startsWith('/')) return { kind: 'unix', path: raw };
  const i = raw.lastIndexOf(':');
  return { kind: 'tcp', host: raw.slice(0, i) || '127.0.0.1', port: Number(raw.slice(i + 1)) };
}

export class HubHttpServer {
  readonly #server: Server;
  #unixPath: string | undefined;

  constructor(probe: HttpProbe) {
    this.#server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
        return;
      }
      if (path === '/metrics') {
        probe.registry
          .metrics()
          .then((text) => res.writeHead(200, { 'content-type': probe.registry.contentType }).end(text))
          .catch((e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(errorMessage(e)));
        return;
      }
      const detail = probe.detail?.();
      const more = detail === undefined ? '' : `${detail}\n`;
      if (path === '/healthz') {
        const ok = probe.serving();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? `ok\n${more}` : 'not serving\n');
        return;
      }
      if (path === '/readyz') {
        const reason = probe.notReadyReason();
        res.writeHead(reason === undefined ? 200 : 503, { 'content-type': 'text/plain' }).end(`${reason === undefined ? 'ready' : reason}\n${more}`);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    });
  }

  /** Resolves with the bound address (TCP port 0 → the chosen port). */
  async listen(addr: ListenAddress): Promise<string> {
    if (addr.kind === 'unix') {
      await unlink(addr.path).catch(() => undefined);
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(addr.path, () => { resolve(); });
      });
      await chmod(addr.path, 0o600);
      this.#unixPath = addr.path;
      return addr.path;
    }
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(addr.port, addr.host, () => { resolve(); });
    });
    const a = this.#server.address();
    return typeof a === 'object' && a !== null ? `${a.address}:${String(a.port)}` : String(a);
  }

  async close(): Promise<void> {
    if (!this.#server.listening) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => { resolve(); }));
    if (this.#unixPath !== undefined) await unlink(this.#unixPath).catch(() => undefined);
  }
}
