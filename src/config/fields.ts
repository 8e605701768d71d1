/**
 * Small typed readers for decoded JSON objects (ConfigMap payloads). Each names the offending field path in a
 * ConfigError; secrets are never echoed.
 */
import { isIpv4, parseCidr } from '../lib/brand.js';
import { ConfigError } from '../lib/errors.js';
import { quote } from '../lib/text.js';

export type Obj = Readonly<Record<string, unknown>>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asObj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new ConfigError(path, `must be an object; got ${kindOf(v)}`);
  return v;
}

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${quote(v)}`;
}

export function optString(o: Obj, key: string, path: string, secret = false): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ConfigError(`${path}.${key}`, `must be a string; got ${secret ? typeof v : kindOf(v)}`);
  return v;
}

export function optBool(o: Obj, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ConfigError(`${path}.${key}`, `must be true or false; got ${kindOf(v)}`);
  return v;
}

export function optInt(o: Obj, key: string, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(`${path}.${key}`, `must be an integer in ${String(min)}..${max === Number.MAX_SAFE_INTEGER ? '' : String(max)}; got ${kindOf(v)}`);
  }
  return v;
}

export function optNumber(o: Obj, key: string, path: string, min: number, exclusiveMin = false): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (exclusiveMin && v === min)) {
    throw new ConfigError(`${path}.${key}`, `must be a number ${exclusiveMin ? '>' : '>='} ${String(min)}; got ${kindOf(v)}`);
  }
  return v;
}

export function optEnum<T extends string>(o: Obj, key: string, path: string, values: readonly T[], opts: { lower?: boolean } = {}): T | undefined {
  const raw = optString(o, key, path);
  if (raw === undefined) return undefined;
  const v = opts.lower === true ? raw.toLowerCase() : raw;
  if (!(values as readonly string[]).includes(v)) {
    throw new ConfigError(`${path}.${key}`, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}; got ${quote(raw)}`);
  }
  return v as T;
}

export function optStringList(o: Obj, key: string, path: string): readonly string[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new ConfigError(`${path}.${key}`, `must be a list of strings; got ${kindOf(v)}`);
  return v.map((x: unknown, i) => {
    if (typeof x !== 'string') throw new ConfigError(`${path}.${key}[${String(i)}]`, `must be a string; got ${kindOf(x)}`);
    return x;
  });
}

export function optStringMap(o: Obj, key: string, path: string): Readonly<Record<string, string>> | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  const m = asObj(v, `${path}.${key}`);
  for (const [k, x] of Object.entries(m)) {
    if (typeof x !== 'string') throw new ConfigError(`${path}.${key}.${k}`, `must be a string; got ${kindOf(x)}`);
  }
  return m as Readonly<Record<string, string>>;
}

/** IPv4 CIDRs; IPv6 entries (dual stack) are kept as given but not used. */
export function cidrItems(items: readonly string[], path: string): readonly string[] {
  return items.map((raw, i) => {
    const s = raw.trim();
    if (s.includes(':')) {
      if (!/^[0-9a-fA-F:]+\/\d{1,3}$/u.test(s)) throw new ConfigError(`${path}[${String(i)}]`, `not a CIDR: ${quote(raw)}`);
      return s;
    }
    try {
      return parseCidr(s, path);
    } catch {
      throw new ConfigError(`${path}[${String(i)}]`, `not a CIDR: ${quote(raw)}`);
    }
  });
}

export function isIpv4Cidr(s: string): boolean {
  const ip = s.split('/')[0] ?? '';
  return isIpv4(ip);
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration string ("10m", "1h30m", "120s", "0") → milliseconds; undefined when malformed. */
export function parseGoDuration(raw: string): number | undefined {
  if (raw === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/guy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(raw); m !== null; m = re.exec(raw)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? NaN);
    consumed = re.lastIndex;
  }
  return raw.length > 0 && consumed === raw.length && Number.isFinite(total) ? total : undefined;
}

export function optDuration(o: Obj, key: string, path: string): number | undefined {
  const raw = optString(o, key, path);
  if (raw === undefined) return undefined;
  const ms = parseGoDuration(raw);
  if (ms === undefined) throw new ConfigError(`${path}.${key}`, `not a duration (e.g. "10m", "90s"): ${quote(raw)}`);
  return ms;
}
