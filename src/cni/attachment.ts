/** Helpers shared by the attachment verbs (ADD, DEL, CHECK). Pure. */
import type { NetnsPath } from '../lib/brand.js';
import { HubError } from '../lib/errors.js';
import { podIdentity, type PodIdentity } from '../lib/veth-name.js';
import type { NodeFacts, PodNetworkSpec } from '../modes/types.js';
import type { AttachmentEnv } from './args.js';
import type { NetConf } from './config.js';

/** Never entered: DEL plans built with it are stripped to host ops (see hostOnly). */
export const ABSENT_NETNS = '/nonexistent/terway-hub/netns' as NetnsPath;

/** Kubernetes identity when the runtime passed one; else namespace "" and the container id as name (podman). */
export function podIdentityOf(env: AttachmentEnv): PodIdentity {
  return podIdentity(env.args.podNamespace, env.args.podName, env.containerId);
}

export function specFor(env: AttachmentEnv, netns: NetnsPath): PodNetworkSpec {
  return { pod: podIdentityOf(env), containerId: env.containerId, netns, ifName: env.ifName };
}

export function nodeFacts(config: NetConf): NodeFacts {
  return { vethPrefix: config.vethPrefix };
}


export function isUnavailable(err: unknown): boolean {
  return err instanceof HubError && err.code === 'unavailable';
}
