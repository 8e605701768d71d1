/** Pure: where the kubeconfig comes from — explicit path, else $KUBECONFIG, else in-cluster, else ~/.kube/config. */
export type KubeconfigSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'env'; readonly value: string }
  | { readonly kind: 'in-cluster' }
  | { readonly kind: 'default-file' };

export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeconfigInputs {
  readonly explicitPath: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether the service-account token file exists. */
  readonly tokenFileExists: boolean;
}

export function resolveKubeconfigSource(input: KubeconfigInputs): KubeconfigSource {
  if (input.explicitPath !== undefined && input.explicitPath !== '') return { kind: 'file', path: input.explicitPath };
  const env = input.env['KUBECONFIG'];
  if (env !== undefined && env !== '') return { kind: 'env', value: env };
  const host = input.env['KUBERNETES_SERVICE_HOST'];
  const port = input.env['KUBERNETES_SERVICE_PORT'];
  if (host !== undefined && host !== '' && port !== undefined && port !== '' && input.tokenFileExists) return { kind: 'in-cluster' };
  return { kind: 'default-file' };
}
