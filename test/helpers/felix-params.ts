/**
 * Checks an env / felix.cfg value against Calico's felix-config-params.json (shared/schemas/calico), read from the
 * JSON itself: its `StringSchema` sentences ("One of: `a`, `b` (case insensitive)", "String matching regex `…`",
 * "Boolean: …", "Integer: [0,65535]", "Seconds (floating point)", "Path to file"), and `none` only where the
 * parameter is not Required. Independent of the hub's own table (src/policy/felix/params.ts), which it checks.
 */
import { readSharedJson } from './shared-schemas.js';

export interface FelixJsonParam {
  readonly NameConfigFile: string;
  readonly NameEnvVar: string;
  readonly NameYAML: string;
  readonly StringSchema: string;
  readonly YAMLEnumValues: readonly string[] | null;
  readonly Required: boolean;
  readonly AllowedConfigSources: string;
}

export function felixJsonParams(): readonly FelixJsonParam[] {
  const doc = readSharedJson('calico/felix-config-params.json') as { Groups: { Fields: FelixJsonParam[] }[] };
  return doc.Groups.flatMap((g) => g.Fields);
}

/** The parameter an env var sets (Felix matches `FELIX_` names case-insensitively), or undefined. */
export function paramForEnv(params: readonly FelixJsonParam[], env: string): FelixJsonParam | undefined {
  return params.find((p) => p.NameEnvVar.toLowerCase() === env.toLowerCase());
}

/** What the StringSchema sentence accepts, as a predicate; throws on a sentence this checker does not know. */
export function envAccepts(p: FelixJsonParam): (v: string) => boolean {
  // Felix reads "none" (any case) as the zero value first: refused for Required params, accepted for the others
  const inner = valueAccepts(p);
  return (v) => (v.toLowerCase() === 'none' ? !p.Required : inner(v));
}

function valueAccepts(p: FelixJsonParam): (v: string) => boolean {
  const s = p.StringSchema;
  const oneOf = /^One of: (.*?)( \(case insensitive\))?$/u.exec(s);
  if (oneOf !== null) {
    const values = [...(oneOf[1] ?? '').matchAll(/`([^`]*)`/gu)].map((m) => m[1] ?? '');
    const ci = oneOf[2] !== undefined;
    return (v) => values.some((x) => (ci ? x.toLowerCase() === v.toLowerCase() : x === v));
  }
  const re = /^String matching regex `(.*)`$/u.exec(s);
  if (re !== null) {
    const rx = new RegExp(re[1] ?? '', 'u');
    return (v) => rx.test(v);
  }
  if (s.startsWith('Boolean:')) return (v) => ['true', '1', 'yes', 'y', 't', 'false', '0', 'no', 'n', 'f'].includes(v.toLowerCase());
  const int = /^Integer: \[(-?\d+),(-?\d+)\]$/u.exec(s);
  if (int !== null) return (v) => /^-?\d+$/u.test(v) && Number(v) >= Number(int[1]) && Number(v) <= Number(int[2]);
  if (s === 'Seconds (floating point)') return (v) => /^\d+(\.\d+)?$/u.test(v);
  if (s.startsWith('Path to file')) return (v) => v.startsWith('/');
  throw new Error(`felix-params checker: unknown StringSchema ${JSON.stringify(s)} for ${p.NameConfigFile}`);
}

/** Problems of a FELIX_* env map against the JSON: unknown variables and refused values. */
export function felixEnvProblems(env: Readonly<Record<string, string>>): string[] {
  const params = felixJsonParams();
  const out: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!k.toUpperCase().startsWith('FELIX_')) continue;
    const p = paramForEnv(params, k);
    if (p === undefined) out.push(`${k}: not a Felix parameter`);
    else if (!envAccepts(p)(v)) out.push(`${k}=${v}: refused by ${p.StringSchema}`);
  }
  return out;
}
