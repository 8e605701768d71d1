/**
 * The reference schemas in test/fixtures/schemas (copied from shared/schemas: a fresh clone tests alone), read by the
 * tests that validate rendered backend configs: Calico's felix-config-params.json and FelixConfiguration CRD,
 * Cilium's Helm values schema and the cilium-cni netconf schema.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ROOT } from './hub.js';

export const SHARED_SCHEMAS = join(ROOT, 'test', 'fixtures', 'schemas');

export function sharedSchemasPresent(): boolean {
  return existsSync(join(SHARED_SCHEMAS, 'calico')) && existsSync(join(SHARED_SCHEMAS, 'cilium'));
}

export const SHARED_SCHEMAS_MISSING = `the reference schemas are not at ${SHARED_SCHEMAS}`;

export function readSharedJson(rel: string): unknown {
  return JSON.parse(readFileSync(join(SHARED_SCHEMAS, rel), 'utf8')) as unknown;
}

export function readSharedYaml(rel: string): unknown {
  return parseYaml(readFileSync(join(SHARED_SCHEMAS, rel), 'utf8')) as unknown;
}
