/**
 * The Aliyun provider's cloud as the warm pool sees it (src/pool/types.ts ResourceFactory), over the ECS client and
 * the metadata service (./types.ts): the node's secondary ENIs tagged as the hub's, created on the zone's vSwitches
 * from `eni_conf.vswitches` with its security groups, attached to this instance and waited for (InUse, listed by
 * the metadata service) before the pool uses them; capacity from the instance type (Terway §7.1:
 * maxENI = ⌊Adapters × eni_cap_ratio⌋ + eni_cap_shift − 1, capped by `max_eni`; IPs per ENI = IPv4PerAdapter).
 */
import { onceUntilFailure } from '../../lib/memo.js';
import type { EniConf } from '../../config/eni-conf.js';
import type { IpAddr } from '../../lib/brand.js';
import { ConfigError } from '../../lib/errors.js';
import type { VSwitchView } from '../../pool/plan.js';
import type { EniResource, FactoryLimits, FailureKind, ResourceFactory } from '../../pool/types.js';
import { aliyunErrorOf } from './errors.js';
import { DEFAULT_ENI_TAGS, eniTagsOf } from './tags.js';
import type { AliyunEniCloud, AttachedEni, MetadataClient } from './types.js';

export interface AliyunFactoryDeps {
  readonly cloud: AliyunEniCloud;
  readonly metadata: MetadataClient;
  /** Read at every call: the tags of a new ENI follow the cluster's eni_conf now. */
  readonly eniConf: EniConf;
}

/** Terway §7.1. */
export function maxEnisOf(adapters: number, c: Pick<EniConf, 'eniCapRatio' | 'eniCapShift' | 'maxEni'>): number {
  const n = Math.floor(adapters * c.eniCapRatio) + c.eniCapShift - 1;
  return Math.max(0, c.maxEni > 0 ? Math.min(n, c.maxEni) : n);
}

export function createAliyunFactory(d: AliyunFactoryDeps): ResourceFactory {
  const toResource = async (e: AttachedEni | { id: string; mac: AttachedEni['mac'] }): Promise<EniResource> => {
    const m = await d.metadata.eni(e.mac);
    return { id: e.id, mac: e.mac, vSwitchId: m.vSwitchId, cidr: m.vSwitchCidr, gateway: m.gateway, primaryIp: m.primaryIp, ips: m.privateIps };
  };
  // an instance never changes zone: asked once (the pool lists the vSwitches at every plan), again after a failure
  const zoneId = onceUntilFailure(() => d.metadata.zoneId());
  return {
    name: 'aliyun',
    limits: async (): Promise<FactoryLimits> => {
      const cap = await d.cloud.instanceTypeCapacity();
      return { maxEnis: maxEnisOf(cap.adapters, d.eniConf), ipsPerEni: cap.ipv4PerAdapter };
    },
    vSwitches: async (): Promise<readonly VSwitchView[]> => {
      const z = await zoneId();
      const ids = d.eniConf.vswitches[z] ?? [];
      if (ids.length === 0) throw new ConfigError('eni_conf.vswitches', `no vSwitch configured for this node's zone ${z}`);
      return ids.map((id) => ({ id }));
    },
    listEnis: async () => {
      const instanceId = await d.metadata.instanceId();
      const enis = await d.cloud.describeEnis({ instanceId, type: 'Secondary', tags: DEFAULT_ENI_TAGS });
      return Promise.all(enis.filter((e) => e.status === 'InUse').map((e) => toResource(e)));
    },
    createEni: async (vSwitchId, count, token) => {
      if (d.eniConf.securityGroups.length === 0) throw new ConfigError('eni_conf.security_groups', 'required to create ENIs');
      const eni = await d.cloud.createEni({ vSwitchId, securityGroupIds: d.eniConf.securityGroups, ipCount: count, tags: eniTagsOf(d.eniConf), clientToken: token });
      return toResource(await d.cloud.attachEni(eni.id));
    },
    assignIps: (eniId, count, token) => d.cloud.assignIps(eniId, { count, clientToken: token }),
    unassignIps: (eniId, ips) => d.cloud.unassignIps(eniId, ips),
    deleteEni: async (eniId) => {
      await d.cloud.detachEni(eniId);
      await d.cloud.deleteEni(eniId);
    },
    nodeView: async (enis) => {
      const macs = new Set((await d.metadata.macs()).map((m) => m.toLowerCase()));
      const out = new Map<string, readonly IpAddr[] | undefined>();
      for (const e of enis) out.set(e.id, macs.has(e.mac.toLowerCase()) ? (await d.metadata.eni(e.mac)).privateIps : undefined);
      return out;
    },
    cause: (err: unknown): string | undefined => aliyunErrorOf(err)?.kind,
    classify: (err: unknown): FailureKind => {
      const info = aliyunErrorOf(err);
      if (info === undefined) return 'fatal';
      switch (info.kind) {
        case 'vswitch-ip-exhausted':
        case 'ip-quota':
          return 'vswitch-exhausted';
        case 'eni-quota':
          return 'eni-quota';
        case 'throttled':
        case 'internal':
        case 'network':
        case 'conflict':
        case 'invalid-state':
          return 'transient';
        case 'auth':
        case 'forbidden':
        case 'idempotent-mismatch':
        case 'ip-unassigned':
        case 'not-found':
        case 'rejected':
          return 'fatal';
      }
    },
  };
}
