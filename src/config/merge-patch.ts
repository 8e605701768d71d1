/**
 * RFC 7396 JSON Merge Patch, pure: a patch object merges into the target key by key (recursively), `null`
 * deletes a key, and any non-object patch (array, string, number, null at the top) replaces the target.
 */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

function isObject(v: unknown): v is Readonly<Record<string, Json>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out = new Map<string, Json>(isObject(target) ? Object.entries(target) : []);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) out.delete(key);
    else out.set(key, mergePatch(out.get(key), value));
  }
  return Object.fromEntries(out);
}
