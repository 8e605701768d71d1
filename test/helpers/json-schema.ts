/**
 * A small JSON Schema checker for the keywords the shared reference schemas use (Cilium's Helm values schemas,
 * the cilium-cni netconf schema, the FelixConfiguration CRD's openAPIV3Schema): type, enum, const, pattern,
 * minimum, maximum, maxLength, properties, required, additionalProperties, items, anyOf, oneOf, allOf and
 * x-kubernetes-int-or-string. Anything else in a schema is reported, so an unchecked keyword cannot pass silently.
 * Kubernetes CRD patterns are RE2: a leading inline `(?i)` becomes JavaScript's `i` flag.
 */
type Schema = Readonly<Record<string, unknown>>;

const IGNORED = new Set(['$schema', '$id', 'title', 'description', 'default', 'examples', 'format', 'x-kubernetes-validations', 'x-kubernetes-preserve-unknown-fields']);
const CHECKED = new Set(['type', 'enum', 'const', 'pattern', 'minimum', 'maximum', 'maxLength', 'properties', 'required', 'additionalProperties', 'items', 'anyOf', 'oneOf', 'allOf', 'x-kubernetes-int-or-string']);

function isObj(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(want: string, v: unknown): boolean {
  const got = typeOf(v);
  return want === got || (want === 'number' && got === 'integer');
}

export function compilePattern(p: string): RegExp {
  const ci = p.includes('(?i)');
  return new RegExp(p.replace('(?i)', ''), ci ? 'ui' : 'u');
}

/** Every violation of `schema` by `value`, as `path: problem`; empty when valid. */
export function validate(schema: unknown, value: unknown, path = '$'): string[] {
  if (schema === true || schema === undefined) return [];
  if (schema === false) return [`${path}: not allowed`];
  if (!isObj(schema)) return [`${path}: schema is not an object`];
  const out: string[] = [];
  for (const k of Object.keys(schema)) if (!IGNORED.has(k) && !CHECKED.has(k)) out.push(`${path}: unsupported schema keyword ${k}`);

  if (schema['x-kubernetes-int-or-string'] === true) {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) out.push(`${path}: must be an integer or a string`);
  } else if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => typeMatches(t, value))) return [...out, `${path}: must be ${types.join(' or ')}; got ${typeOf(value)}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) out.push(`${path}: must be one of ${JSON.stringify(schema.enum)}; got ${JSON.stringify(value)}`);
  if ('const' in schema && schema.const !== value) out.push(`${path}: must be ${JSON.stringify(schema.const)}; got ${JSON.stringify(value)}`);
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !compilePattern(schema.pattern).test(value)) out.push(`${path}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    // JSON Schema counts code points, as Array.from does
    if (typeof schema.maxLength === 'number' && Array.from(value).length > schema.maxLength) out.push(`${path}: longer than ${String(schema.maxLength)}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) out.push(`${path}: below ${String(schema.minimum)}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) out.push(`${path}: above ${String(schema.maximum)}`);
  }
  if (isObj(value)) {
    const props = isObj(schema.properties) ? schema.properties : {};
    if (Array.isArray(schema.required)) for (const r of schema.required as string[]) if (!(r in value)) out.push(`${path}: missing required ${r}`);
    for (const [k, v] of Object.entries(value)) {
      if (k in props) out.push(...validate(props[k], v, `${path}.${k}`));
      else if (schema.additionalProperties === false) out.push(`${path}.${k}: unknown property`);
      else if (isObj(schema.additionalProperties)) out.push(...validate(schema.additionalProperties, v, `${path}.${k}`));
    }
  }
  if (Array.isArray(value) && schema.items !== undefined) value.forEach((v, i) => out.push(...validate(schema.items, v, `${path}[${String(i)}]`)));
  if (Array.isArray(schema.allOf)) for (const s of schema.allOf) out.push(...validate(s, value, path));
  if (Array.isArray(schema.anyOf) && !schema.anyOf.some((s) => validate(s, value, path).length === 0)) out.push(`${path}: matches none of anyOf`);
  if (Array.isArray(schema.oneOf) && schema.oneOf.filter((s) => validate(s, value, path).length === 0).length !== 1) out.push(`${path}: must match exactly one of oneOf`);
  return out;
}
