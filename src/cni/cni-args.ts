/** CNI_ARGS ("K1=V1;K2=V2") like Go's types.LoadArgs: unknown keys are rejected unless IgnoreUnknown is true. Pure. */
import { quote } from '../lib/text.js';
import { podIdentityProblem } from '../lib/validate/names.js';
import { CniError } from './errors.js';
import { CniCode } from './spec.js';

export interface CniArgs {
  /** Empty strings when the runtime passed no Kubernetes identity. */
  readonly podNamespace: string;
  readonly podName: string;
  readonly infraContainerId: string;
}

export const EMPTY_CNI_ARGS: CniArgs = { podNamespace: '', podName: '', infraContainerId: '' };

const KNOWN = new Set(['IgnoreUnknown', 'K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_INFRA_CONTAINER_ID', 'K8S_POD_UID']);

function bad(problem: string): CniError {
  return new CniError(CniCode.INVALID_ENV, 'invalid CNI_ARGS', problem);
}

/** Go's UnmarshallableBool: 1/true/0/false, case-insensitive. */
function parseBool(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw bad(`${key}: boolean value expected, got ${quote(value)}`);
}

export function parseCniArgs(raw: string | undefined): CniArgs {
  if (raw === undefined || raw === '') return EMPTY_CNI_ARGS;
  const pairs = new Map<string, string>();
  for (const pair of raw.split(';')) {
    if (pair === '') continue;
    const kv = pair.split('=');
    if (kv.length !== 2 || kv[0] === '') throw bad(`invalid pair ${quote(pair)}`);
    pairs.set(kv[0] ?? '', kv[1] ?? '');
  }
  const ignore = pairs.has('IgnoreUnknown') && parseBool('IgnoreUnknown', pairs.get('IgnoreUnknown') ?? '');
  const unknown = [...pairs.keys()].filter((k) => !KNOWN.has(k));
  if (unknown.length > 0 && !ignore) throw bad(`unknown args ${quote(unknown, 256)}`);
  const args = {
    podNamespace: pairs.get('K8S_POD_NAMESPACE') ?? '',
    podName: pairs.get('K8S_POD_NAME') ?? '',
    infraContainerId: pairs.get('K8S_POD_INFRA_CONTAINER_ID') ?? '',
  };
  const problem = podIdentityProblem(args.podNamespace, args.podName, args.infraContainerId);
  if (problem !== undefined) throw bad(`${problem}: ${quote([args.podNamespace, args.podName, args.infraContainerId], 256)}`);
  return args;
}
