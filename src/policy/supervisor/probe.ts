/**
 * Health probes of a backend: one HTTP GET on loopback, as a kubelet httpGet probe does. 200 and 204 are good; any
 * other status, a refused connection (nothing listens yet), a timeout or an error is a failure with its kind.
 */
import { request } from 'node:http';
import type { HttpProbe } from '../process-spec.js';
import type { ProbeError } from './types.js';

export type ProbeResult = { readonly ok: true; readonly status: number } | { readonly ok: false; readonly kind: ProbeError['kind']; readonly message: string };

export interface HealthProber {
  probe(p: HttpProbe, timeoutMs: number): Promise<ProbeResult>;
}

/** Bodies are read up to this and discarded (Cilium's non-brief /healthz is a large JSON document). */
const MAX_BODY_BYTES = 64 * 1024;

export function createHttpProber(): HealthProber {
  return {
    probe: (p, timeoutMs) =>
      new Promise((resolve) => {
        let settled = false;
        const done = (r: ProbeResult): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          req.destroy();
          resolve(r);
        };
        const req = request({ host: p.host, port: p.port, path: p.path, method: 'GET', headers: { ...p.headers }, agent: false }, (res) => {
          let seen = 0;
          res.on('data', (c: Buffer) => {
            seen += c.length;
            if (seen > MAX_BODY_BYTES) res.destroy();
          });
          const status = res.statusCode ?? 0;
          const result: ProbeResult = status === 200 || status === 204 ? { ok: true, status } : { ok: false, kind: 'status', message: `HTTP ${String(status)}` };
          res.on('end', () => { done(result); });
          res.on('close', () => { done(result); });
          res.on('error', () => { done(result); });
        });
        const timer = setTimeout(() => {
          done({ ok: false, kind: 'timeout', message: `no answer within ${String(timeoutMs)} ms` });
        }, timeoutMs);
        req.on('error', (e: NodeJS.ErrnoException) => {
          done(e.code === 'ECONNREFUSED' ? { ok: false, kind: 'refused', message: 'connection refused' } : { ok: false, kind: 'error', message: e.message });
        });
        req.end();
      }),
  };
}
