/**
 * The cilium backend: cilium-agent with cilium-cni chained after the hub's plugin. The hub renders everything the
 * agent would otherwise write (its conflist entry), and the agent's config as a `--config-dir`.
 */
import { ConfigError } from '../../lib/errors.js';
import { cidrContains } from '../../lib/net.js';
import type { HttpProbe, ProcessSpec, RenderedFile } from '../process-spec.js';
import { ciliumResidue } from '../residue.js';
import { baseEnv, type PolicyBackend, type PolicyContext } from '../types.js';
import type { Release } from '../version.js';
import { CILIUM_CNI_LOG, LOCAL_ROUTER_IPV4, agentConfig, agentConfigValue, ciliumConfigDir } from './agent-config.js';
import { buildProblems, ciliumRelease } from './support.js';

export const CILIUM_HEALTH_HOST = '127.0.0.1';
export const CILIUM_STOP_GRACE_MS = 10_000;

export const ciliumBackend: PolicyBackend = {
  name: 'cilium',
  check(ctx) {
    const s = ctx.settings.cilium;
    const out: string[] = [];
    if (s.agentBinary === undefined) out.push('policy.cilium.agentBinary is not set: the absolute path of cilium-agent is required to run the cilium backend');
    const r = ciliumRelease(s);
    if (typeof r === 'string') out.push(r);
    else out.push(...buildProblems(ctx.mode, s, r, ctx.networkName));
    for (const cidr of [...ctx.serviceCidrs, ...ctx.hostStackCidrs]) {
      if (!cidr.includes(':') && cidrContains(cidr, LOCAL_ROUTER_IPV4)) {
        out.push(`Cilium's local router address ${LOCAL_ROUTER_IPV4} (cilium_host) falls inside ${cidr} (service_cidr or host_stack_cidrs): traffic to it would be misrouted`);
      }
    }
    return out;
  },
  renderFiles(ctx): readonly RenderedFile[] {
    const dir = ciliumConfigDir(ctx);
    return agentConfig(ctx, releaseOf(ctx)).map((k) => ({ path: `${dir}/${k.key}`, content: agentConfigValue(k.value), mode: 0o644 }));
  },
  process(ctx): ProcessSpec {
    const s = ctx.settings.cilium;
    if (s.agentBinary === undefined) throw new ConfigError('policy.cilium.agentBinary', 'required to run the cilium backend');
    releaseOf(ctx);
    const brief = { brief: 'true' };
    const probe = (headers: Readonly<Record<string, string>>): HttpProbe => ({ host: CILIUM_HEALTH_HOST, port: s.healthPort, path: '/healthz', headers });
    return {
      name: 'cilium-agent',
      argv: [s.agentBinary, `--config-dir=${ciliumConfigDir(ctx)}`],
      env: { ...baseEnv(ctx.kube), K8S_NODE_NAME: ctx.nodeName, CILIUM_K8S_NAMESPACE: ctx.kube.namespace },
      // The chart's probes: liveness must not fail over a lost API server (the agent keeps enforcing meanwhile).
      liveness: probe({ ...brief, 'require-k8s-connectivity': 'false' }),
      readiness: probe(brief),
      restartNowExitCodes: [],
      stopGraceMs: CILIUM_STOP_GRACE_MS,
    };
  },
  /**
   * The cilium-cni entry, last in the hub's conflist. No `name`: libcni injects the network's name into every plugin
   * config, so cilium-cni sees the conflist's `name` (what `check` holds against the chainer before 1.14).
   */
  cniChainEntries(ctx) {
    releaseOf(ctx);
    const s = ctx.settings.cilium;
    return [{ type: s.cniBinary, 'chaining-mode': s.chainingMode, 'enable-debug': false, 'log-file': CILIUM_CNI_LOG }];
  },
  kubeObjects: () => [],
  healthResponder: () => undefined,
  residue: (ctx) => [ciliumResidue(ctx.vethPrefix, ctx.settings.cilium.cniBinary)],
};

function releaseOf(ctx: PolicyContext): Release {
  const r = ciliumRelease(ctx.settings.cilium);
  if (typeof r === 'string') throw new ConfigError('policy.cilium.version', r);
  return r;
}
