/**
 * The policy backends by name. A new backend is a folder src/policy/<name> exporting a PolicyBackend, its name added to POLICY_BACKEND_CHOICES (src/config/policy-config.ts) and an entry here; the
 * compiler then points at every switch that must learn it (src/policy/choose.ts).
 */
import { builtinBackend } from './builtin/backend.js';
import { ciliumBackend } from './cilium/backend.js';
import { felixBackend } from './felix/backend.js';
import { noneBackend } from './none/backend.js';
import type { PolicyBackend, PolicyBackendName } from './types.js';

const BACKENDS: Readonly<Record<PolicyBackendName, PolicyBackend>> = { felix: felixBackend, cilium: ciliumBackend, builtin: builtinBackend, none: noneBackend };

export function policyBackend(name: PolicyBackendName): PolicyBackend {
  return BACKENDS[name];
}

/** Every registered backend name, in registration order. */
export function policyBackendNames(): readonly PolicyBackendName[] {
  return Object.keys(BACKENDS) as PolicyBackendName[];
}
