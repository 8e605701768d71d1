/**
 * The ECS instance metadata client: `GET {endpoint}/latest/meta-data/<path>` with a session token (`PUT
 * latest/api/token`, header `X-aliyun-ecs-metadata-token-ttl-seconds`, then `X-aliyun-ecs-metadata-token`; a new
 * token after a 401, none when the service has no token API), retries on 429/5xx and network errors (Terway: 500 ms,
 * 4 attempts), a per-request timeout. The endpoint is configurable (default http://100.100.100.200).
 */
import { parseCidr, parseIp, type MacAddr } from '../../lib/brand.js';
import { NotFoundError, UnavailableError, errorMessage } from '../../lib/errors.js';
import { DEFAULT_BACKOFFS, backoffDelays, type Backoff } from './backoff.js';
import { realClock, type Clock } from './clock.js';
import { observeCloudCall, type CloudCallObserver } from './call-observer.js';
import type { MetadataClient, MetadataEni, RoleCredentials } from './types.js';

export const DEFAULT_METADATA_ENDPOINT = 'http://100.100.100.200';

export interface MetadataClientOptions {
  readonly endpoint?: string;
  /** Per HTTP request (default 10 s). */
  readonly timeoutMs?: number;
  /** Session token lifetime asked for (default 21600 s, the maximum). */
  readonly tokenTtlSeconds?: number;
  readonly backoff?: Backoff;
  readonly clock?: Clock;
  /** Told after every HTTP request (its path, wall time, failed or not): `aliyun_metadata_latency`. */
  readonly onCall?: CloudCallObserver;
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/u;

function parseMac(raw: string, what: string): MacAddr {
  const m = raw.trim().toLowerCase();
  if (!MAC_RE.test(m)) throw new UnavailableError(`metadata ${what}: not a MAC address: ${JSON.stringify(raw.slice(0, 40))}`);
  return m as MacAddr;
}

class HttpStatusError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export function createMetadataClient(o: MetadataClientOptions = {}): MetadataClient {
  const endpoint = (o.endpoint ?? DEFAULT_METADATA_ENDPOINT).replace(/\/+$/u, '');
  const timeoutMs = o.timeoutMs ?? 10_000;
  const ttl = o.tokenTtlSeconds ?? 21600;
  const clock = o.clock ?? realClock;
  const delays = backoffDelays(o.backoff ?? DEFAULT_BACKOFFS.metadata);
  /** undefined: not fetched yet; null: the service has no token API (plain access). */
  let token: { value: string; until: number } | null | undefined;

  const request = async (method: 'GET' | 'PUT', path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<string> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const started = performance.now();
    let ok = false;
    try {
      const res = await fetch(`${endpoint}${path}`, { method, headers, signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) });
      const body = await res.text();
      if (!res.ok) throw new HttpStatusError(res.status, `HTTP ${String(res.status)}`);
      ok = true;
      return body;
    } finally {
      observeCloudCall(o.onCall, 'metadata', path, !ok, started);
    }
  };

  const getToken = async (signal?: AbortSignal): Promise<string | undefined> => {
    if (token === null) return undefined;
    if (token !== undefined && clock.now() < token.until) return token.value;
    try {
      const value = (await request('PUT', '/latest/api/token', { 'X-aliyun-ecs-metadata-token-ttl-seconds': String(ttl) }, signal)).trim();
      // renewed a minute before it lapses
      token = { value, until: clock.now() + Math.max(1, ttl - 60) * 1000 };
      return value;
    } catch (e) {
      if (e instanceof HttpStatusError && (e.status === 404 || e.status === 405)) {
        token = null; // no token API here: plain access
        return undefined;
      }
      throw e;
    }
  };

  const get = async (path: string, signal?: AbortSignal): Promise<string> => {
    const full = `/latest/meta-data/${path}`;
    let lastError: unknown;
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (attempt > 0) await clock.sleep(delays[attempt - 1] ?? 500, signal);
      try {
        const t = await getToken(signal);
        return await request('GET', full, t === undefined ? {} : { 'X-aliyun-ecs-metadata-token': t }, signal);
      } catch (e) {
        lastError = e;
        if (signal?.aborted === true) throw e;
        if (e instanceof HttpStatusError) {
          if (e.status === 404) throw new NotFoundError(`metadata ${path}: not found (404)`);
          if (e.status === 401) {
            token = undefined; // expired or revoked: a new one on the next attempt
            continue;
          }
          if (e.status !== 429 && e.status < 500) throw new UnavailableError(`metadata ${path}: HTTP ${String(e.status)}`);
        }
      }
    }
    throw new UnavailableError(`metadata ${endpoint}${full}: ${errorMessage(lastError)} (after ${String(delays.length + 1)} attempts)`);
  };

  const text = async (path: string, signal?: AbortSignal): Promise<string> => (await get(path, signal)).trim();
  const ipList = (raw: string, what: string) => {
    let list: unknown;
    try {
      list = JSON.parse(raw);
    } catch {
      // some images answer one address per line
      list = raw.split(/\s+/u).filter((s) => s !== '');
    }
    if (!Array.isArray(list)) throw new UnavailableError(`metadata ${what}: not a list of addresses`);
    return list.map((x, i) => parseIp(String(x), `metadata ${what}[${String(i)}]`));
  };

  const client: MetadataClient = {
    instanceId: (s) => text('instance-id', s),
    instanceType: (s) => text('instance/instance-type', s),
    regionId: (s) => text('region-id', s),
    zoneId: (s) => text('zone-id', s),
    vpcId: (s) => text('vpc-id', s),
    vSwitchId: (s) => text('vswitch-id', s),
    primaryMac: async (s) => parseMac(await text('mac', s), 'mac'),
    macs: async (s) =>
      (await get('network/interfaces/macs/', s))
        .split('\n')
        .map((l) => l.trim().replace(/\/$/u, ''))
        .filter((l) => l !== '')
        .map((l) => parseMac(l, 'network/interfaces/macs/')),
    eni: async (mac, s): Promise<MetadataEni> => {
      const base = `network/interfaces/macs/${mac}/`;
      const [eniId, vsw, cidr, gw, primary, ips, mask] = await Promise.all(
        ['network-interface-id', 'vswitch-id', 'vswitch-cidr-block', 'gateway', 'primary-ip-address', 'private-ipv4s', 'netmask'].map((f) => text(base + f, s)),
      );
      return {
        mac,
        eniId: eniId ?? '',
        vSwitchId: vsw ?? '',
        vSwitchCidr: parseCidr(cidr ?? '', `metadata ${base}vswitch-cidr-block`),
        gateway: parseIp(gw ?? '', `metadata ${base}gateway`),
        primaryIp: parseIp(primary ?? '', `metadata ${base}primary-ip-address`),
        privateIps: ipList(ips ?? '', `${base}private-ipv4s`),
        netmask: parseIp(mask ?? '', `metadata ${base}netmask`),
      };
    },
    ramRole: async (s) => {
      try {
        const name = (await text('ram/security-credentials/', s)).split('\n')[0]?.trim() ?? '';
        return name === '' ? undefined : name;
      } catch (e) {
        if (e instanceof NotFoundError) return undefined;
        throw e;
      }
    },
    roleCredentials: async (role, s): Promise<RoleCredentials> => {
      const raw = await get(`ram/security-credentials/${encodeURIComponent(role)}`, s);
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        throw new UnavailableError(`metadata ram/security-credentials/${role}: not JSON`);
      }
      const str = (k: string): string => (typeof o[k] === 'string' ? o[k] : '');
      const expiration = new Date(str('Expiration'));
      // never quote the body: it holds the secret and the token
      if (str('Code') !== 'Success' || str('AccessKeyId') === '' || str('AccessKeySecret') === '' || str('SecurityToken') === '' || Number.isNaN(expiration.getTime())) {
        throw new UnavailableError(`metadata ram/security-credentials/${role}: no usable credentials (Code ${JSON.stringify(str('Code').slice(0, 40))})`);
      }
      return { accessKeyId: str('AccessKeyId'), accessKeySecret: str('AccessKeySecret'), securityToken: str('SecurityToken'), expiration };
    },
  };
  return client;
}
