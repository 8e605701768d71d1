/**
 * Where the ECS client's credentials come from, in Terway's order: `eni_conf` `access_key`/`access_secret`, a
 * mounted credentials file (JSON: `AccessKeyId`, `AccessKeySecret`, optional `SecurityToken` and `Expiration`; or
 * the snake_case `access_key_id`, …; re-read when it changes), or the instance RAM role's STS credentials from the
 * metadata service (refreshed before they expire). Every secret is registered with the Redactor the moment it is
 * known, so none ever reaches a log line or an error message.
 */
import { readFile, stat } from 'node:fs/promises';
import { ConfigError, UnavailableError, errorMessage } from '../../lib/errors.js';
import type { Clock } from './clock.js';
import type { Redactor } from './redact.js';
import type { MetadataClient } from './types.js';

export interface AccessCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
  /** ms since epoch; undefined: does not expire. */
  readonly expiresAt?: number;
}

export interface CredentialProvider {
  /** `eni_conf` | `file` | `ram-role` (for status output; never the secret). */
  readonly source: string;
  get(signal?: AbortSignal): Promise<AccessCredentials>;
}

export interface CredentialSources {
  readonly accessKey?: string;
  readonly accessSecret?: string;
  /** A mounted credentials file (eni_conf `credential_path`). */
  readonly credentialPath?: string;
  /** For the RAM role (and to name it when the instance has several). */
  readonly metadata?: MetadataClient;
  readonly ramRole?: string;
}

/** Refresh STS credentials this long before they expire (or at a tenth of their lifetime, if that is shorter). */
const REFRESH_BEFORE_MS = 5 * 60_000;

export function createCredentialProvider(src: CredentialSources, redactor: Redactor, clock: Clock): CredentialProvider {
  const hasKey = src.accessKey !== undefined && src.accessKey !== '';
  const hasSecret = src.accessSecret !== undefined && src.accessSecret !== '';
  if (hasKey !== hasSecret) throw new ConfigError(hasKey ? 'eni_conf.access_secret' : 'eni_conf.access_key', 'access_key and access_secret go together');
  if (hasKey && hasSecret) {
    const c = { accessKeyId: src.accessKey ?? '', accessKeySecret: src.accessSecret ?? '' };
    redactor.add(c.accessKeyId, c.accessKeySecret);
    return { source: 'eni_conf', get: () => Promise.resolve(c) };
  }
  if (src.credentialPath !== undefined && src.credentialPath !== '') return fileProvider(src.credentialPath, redactor, clock);
  if (src.metadata !== undefined) return ramRoleProvider(src.metadata, src.ramRole, redactor, clock);
  throw new ConfigError('eni_conf.access_key', 'no credentials: set access_key/access_secret, credential_path, or give the instance a RAM role');
}

function pick(o: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) if (typeof o[k] === 'string' && o[k] !== '') return o[k];
  return undefined;
}

function fileProvider(path: string, redactor: Redactor, clock: Clock): CredentialProvider {
  let cached: { mtimeMs: number; creds: AccessCredentials } | undefined;
  return {
    source: 'file',
    async get() {
      let mtimeMs: number;
      try {
        mtimeMs = (await stat(path)).mtimeMs;
      } catch (e) {
        throw new ConfigError('eni_conf.credential_path', `cannot read ${path}: ${errorMessage(e)}`);
      }
      if (cached !== undefined && cached.mtimeMs === mtimeMs && (cached.creds.expiresAt === undefined || clock.now() < cached.creds.expiresAt)) return cached.creds;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        // the parser's message could quote the file's text: name the file only
        throw new ConfigError('eni_conf.credential_path', `${path} is not a JSON credentials file${e instanceof SyntaxError ? '' : ` (${errorMessage(e)})`}`);
      }
      const id = pick(o, 'AccessKeyId', 'access_key_id', 'access.key.id');
      const secret = pick(o, 'AccessKeySecret', 'access_key_secret', 'access.key.secret');
      const token = pick(o, 'SecurityToken', 'security_token', 'security.token');
      const exp = pick(o, 'Expiration', 'expiration');
      redactor.add(id, secret, token);
      if (id === undefined || secret === undefined) throw new ConfigError('eni_conf.credential_path', `${path}: needs AccessKeyId and AccessKeySecret`);
      const expiresAt = exp === undefined ? undefined : Date.parse(exp);
      if (expiresAt !== undefined && Number.isNaN(expiresAt)) throw new ConfigError('eni_conf.credential_path', `${path}: Expiration is not a date`);
      if (expiresAt !== undefined && clock.now() >= expiresAt) throw new UnavailableError(`credentials in ${path} expired at ${new Date(expiresAt).toISOString()}; waiting for the file to be renewed`);
      const creds: AccessCredentials = { accessKeyId: id, accessKeySecret: secret, ...(token === undefined ? {} : { securityToken: token }), ...(expiresAt === undefined ? {} : { expiresAt }) };
      cached = { mtimeMs, creds };
      return creds;
    },
  };
}

function ramRoleProvider(md: MetadataClient, role: string | undefined, redactor: Redactor, clock: Clock): CredentialProvider {
  let cached: AccessCredentials | undefined;
  let inFlight: Promise<AccessCredentials> | undefined;
  const fresh = (c: AccessCredentials | undefined, now: number, issuedAt: number): boolean => {
    if (c?.expiresAt === undefined) return false;
    const lifetime = c.expiresAt - issuedAt;
    return now < c.expiresAt - Math.min(REFRESH_BEFORE_MS, Math.max(0, lifetime / 10));
  };
  let issuedAt = 0;
  const fetchNew = async (signal?: AbortSignal): Promise<AccessCredentials> => {
    const name = role ?? (await md.ramRole(signal));
    if (name === undefined) throw new ConfigError('eni_conf.access_key', 'no credentials: no access_key/access_secret, no credential_path, and the instance has no RAM role');
    const r = await md.roleCredentials(name, signal);
    redactor.add(r.accessKeyId, r.accessKeySecret, r.securityToken);
    issuedAt = clock.now();
    return { accessKeyId: r.accessKeyId, accessKeySecret: r.accessKeySecret, securityToken: r.securityToken, expiresAt: r.expiration.getTime() };
  };
  return {
    source: 'ram-role',
    async get(signal) {
      if (fresh(cached, clock.now(), issuedAt) && cached !== undefined) return cached;
      inFlight ??= fetchNew(signal).finally(() => {
        inFlight = undefined;
      });
      try {
        cached = await inFlight;
      } catch (e) {
        // keep using credentials that still work while the metadata service hiccups
        if (cached?.expiresAt !== undefined && clock.now() < cached.expiresAt) return cached;
        throw e;
      }
      return cached;
    },
  };
}
