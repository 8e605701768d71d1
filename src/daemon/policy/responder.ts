/**
 * The `none` backend's health responder: a loopback HTTP server on the probe port answering the probe paths of
 * every backend 200, so a DaemonSet whose probes were written for Felix or Cilium stays green while no backend
 * process runs (Terway runs a small health server on 127.0.0.1:$FELIX_HEALTHPORT for the same reason).
 */
import { createServer } from 'node:http';
import type { HealthResponder } from '../../policy/types.js';
import type { RunningResponder } from './controller.js';

export async function startHealthResponder(r: HealthResponder): Promise<RunningResponder> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const ok = (req.method === 'GET' || req.method === 'HEAD') && r.paths.includes(path);
    res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain' }).end(ok ? r.body : 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(r.port, r.host, () => { resolve(); });
  });
  const a = server.address();
  return {
    address: typeof a === 'object' && a !== null ? `${a.address}:${String(a.port)}` : String(a),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => { resolve(); });
      }),
  };
}
