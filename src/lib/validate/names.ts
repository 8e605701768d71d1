/**
 * One validator per naming concept, used by both the daemon (config, RPC requests) and the plugin (env, conflist):
 * what one side accepts, the other accepts. Each returns a problem (without the value; the caller quotes it) or
 * undefined. Pure; the plugin loads it.
 */

/**
 * Host veth prefix. The host name is prefix + 11 hex chars of a SHA-1 (Calico/Terway), at most IFNAMSIZ-1 = 15
 * bytes: 1-4 characters, a lower-case letter first, then lower-case letters or digits ("cali", "eni0", "vi").
 */
const VETH_PREFIX = /^[a-z][a-z0-9]{0,3}$/u;

export function vethPrefixProblem(v: string): string | undefined {
  return VETH_PREFIX.test(v) ? undefined : 'must be 1-4 lower-case letters or digits, starting with a letter';
}

/** libcni ValidateContainerID and ValidateNetworkName: the same rule. No length limit (a 300-char id is legal). */
const CNI_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/u;

export function containerIdProblem(v: string): string | undefined {
  if (v === '') return 'container id is empty';
  return CNI_NAME.test(v) ? undefined : 'invalid characters in container id (allowed: ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$)';
}

export function networkNameProblem(v: string): string | undefined {
  if (v === '') return 'network name is empty';
  return CNI_NAME.test(v) ? undefined : 'invalid characters in network name (allowed: ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$)';
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/u;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/u;

/** RFC 1123 label, Kubernetes namespace names: 1-63 of [a-z0-9-], alphanumeric at both ends. */
export function dnsLabelProblem(v: string): string | undefined {
  return v.length <= 63 && DNS_LABEL.test(v) ? undefined : 'not a DNS label (1-63 of a-z 0-9 -, alphanumeric at both ends)';
}

/** RFC 1123 subdomain, Kubernetes object names (pods, nodes, ConfigMaps): 1-253 of [a-z0-9-.]. */
export function dnsSubdomainProblem(v: string): string | undefined {
  return v.length <= 253 && DNS_SUBDOMAIN.test(v) ? undefined : 'not a DNS subdomain (1-253 of a-z 0-9 - ., alphanumeric at both ends)';
}

/**
 * The pod identity the runtime passes in CNI_ARGS (K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID) and
 * the plugin forwards in Allocate: namespace and name both empty (no Kubernetes identity: podman) or both valid.
 */
export function podIdentityProblem(namespace: string, name: string, infraContainerId = ''): string | undefined {
  if ((namespace === '') !== (name === '')) return 'pod namespace and pod name come together (both or neither)';
  const ns = namespace === '' ? undefined : dnsLabelProblem(namespace);
  if (ns !== undefined) return `pod namespace ${ns}`;
  const pod = name === '' ? undefined : dnsSubdomainProblem(name);
  if (pod !== undefined) return `pod name ${pod}`;
  const infra = infraContainerId === '' ? undefined : containerIdProblem(infraContainerId);
  return infra === undefined ? undefined : `infra container id: ${infra}`;
}
