/** A kubeconfig (JSON is valid YAML) pointing at the emulator, with a bearer token the request log can show. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tmp.js';

export const EMULATOR_TOKEN = 'emulator-token';

export function kubeconfigText(server: string, namespace = 'default'): string {
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      // client-node 1.x refuses plain http unless TLS verification is explicitly skipped.
      clusters: [{ name: 'emulator', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'emulator', user: { token: EMULATOR_TOKEN } }],
      contexts: [{ name: 'emulator', context: { cluster: 'emulator', user: 'emulator', namespace } }],
      'current-context': 'emulator',
    },
    null,
    2,
  );
}

export function writeKubeconfig(server: string): string {
  const dir = tempDir('k8s-emulator-');
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, kubeconfigText(server), { mode: 0o600 });
  return path;
}
