/** Checks a ProcessSpec before anything runs: every problem is a ConfigError naming the field and its value. */
import { ConfigError } from '../../lib/errors.js';
import { isIP } from 'node:net';
import type { HttpProbe, ProcessSpec } from '../process-spec.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const ENV_NAME = /^[^=\0]+$/;

function show(v: string): string {
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}…"` : s;
}

function isLoopback(host: string): boolean {
  if (host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

function checkProbe(field: string, p: HttpProbe): void {
  // a literal, not `localhost`: IPv4/IPv6 resolution must not decide what is probed (cni-plugin#1060)
  if (!isLoopback(p.host)) throw new ConfigError(`${field}.host`, `${show(p.host)} is not a loopback address literal (127.0.0.0/8 or ::1)`);
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) throw new ConfigError(`${field}.port`, `${String(p.port)} is not a port (1-65535)`);
  if (!p.path.startsWith('/') || /[\s\0]/.test(p.path)) throw new ConfigError(`${field}.path`, `${show(p.path)} must start with / and hold no whitespace`);
  for (const [k, v] of Object.entries(p.headers ?? {})) {
    if (!HEADER_NAME.test(k)) throw new ConfigError(`${field}.headers`, `${show(k)} is not an HTTP header name`);
    if (/[\r\n\0]/.test(v)) throw new ConfigError(`${field}.headers.${k}`, `${show(v)} holds a line break or NUL`);
  }
}

export function checkProcessSpec(spec: ProcessSpec): void {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(spec.name)) throw new ConfigError('name', `${show(spec.name)} must be 1-63 of [a-z0-9-], starting with a letter or digit`);
  const [file] = spec.argv;
  if (!file.startsWith('/')) throw new ConfigError('argv[0]', `${show(file)} is not an absolute path`);
  spec.argv.forEach((a, i) => {
    if (a.includes('\0')) throw new ConfigError(`argv[${String(i)}]`, `${show(a)} holds a NUL byte`);
  });
  for (const [k, v] of Object.entries(spec.env)) {
    if (!ENV_NAME.test(k)) throw new ConfigError('env', `${show(k)} is not an environment variable name`);
    if (v.includes('\0')) throw new ConfigError(`env.${k}`, `${show(v)} holds a NUL byte`);
  }
  checkProbe('liveness', spec.liveness);
  checkProbe('readiness', spec.readiness);
  spec.restartNowExitCodes.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 1 || c > 255) throw new ConfigError(`restartNowExitCodes[${String(i)}]`, `${String(c)} is not an exit code (1-255)`);
  });
  if (!Number.isFinite(spec.stopGraceMs) || spec.stopGraceMs < 0) throw new ConfigError('stopGraceMs', `${String(spec.stopGraceMs)} must be a finite number ≥ 0`);
}
