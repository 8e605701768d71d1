/**
 * The Aliyun provider (`cloud.provider: aliyun`): pod IPs are secondary IPs of the node's secondary ENIs, made by the
 * warm pool through the Aliyun factory (./factory.ts → the ECS client on the real SDK); the node's facts come from
 * the instance metadata service (the primary ENI: its host link found by MAC, its gateway, its vSwitch CIDR; the
 * node's IP for ipvlan's host slave and exclusive ENI's side-car). An ENI the pool grants from is found on the host
 * by its MAC (src/cloud/host-links.ts). The exclusive-ENI mode (eni) gets whole ENIs from the same factory.
 *
 * One session per instance (`AliyunProviders`): the pool's factory key is the instance id only, so a new effective
 * config (rotated credentials in eni_conf, a switch between veth-policy-routing and ipvlan) keeps the pool; the
 * factory reads the session's current ECS client and eni_conf at every call. VPC mode needs nothing from the cloud:
 * it runs on the local provider (the node's podCIDR). Secrets never reach a log line or an error: the ECS client
 * redacts what it reports, and this file logs only the credential source's name.
 */
import { onceUntilFailure } from '../../lib/memo.js';
import type { DaemonConfig } from '../../config/daemon-config.js';
import type { AliyunSettings } from '../../config/cloud-config.js';
import type { EniConf } from '../../config/eni-conf.js';
import { isIpv4Cidr } from '../../config/fields.js';
import type { Cidr, IfName, IpAddr, MacAddr } from '../../lib/brand.js';
import { ConfigError, UnavailableError, errorMessage } from '../../lib/errors.js';
import type { CommandRunner } from '../../lib/exec.js';
import type { Logger } from '../../lib/log.js';
import { networkCidr } from '../../lib/net.js';
import { setFromCidr } from '../../ipam/range.js';
import { ENI_TABLE_BASE, type EniFacts, type ExclusiveNodeFacts, type IpvlanNodeFacts } from '../../modes/types.js';
import type { LinkByMac } from '../../pool/eni-source.js';
import type { EniResource } from '../../pool/types.js';
import { ipvlanKernelProblem, type SysfsReader } from '../local/provider.js';
import { exclusiveNodeFacts, ipvlanNodeFacts } from '../node-facts.js';
import type { CloudProvider, IpSource, LocalFacts } from '../types.js';
// ./create.js (and with it the ECS SDK, ≈ 1 s of module loading) is imported when a session is built: a daemon on the
// local provider, and the CLI, never load it
import type { CloudCallObserver } from './call-observer.js';
import type { AliyunCloud, createAliyunCloud } from './create.js';
import { createAliyunFactory } from './factory.js';

export interface AliyunProviderDeps {
  /** Reads /sys (an ENI link's ifindex) and /proc (the kernel release for ipvlan). */
  readonly read: SysfsReader;
  readonly linkByMac: LinkByMac;
  /** `modprobe ipvlan` when the module is not loaded. */
  readonly runner?: CommandRunner;
  readonly log: Logger;
  /** How long a just-attached ENI's host link may take to appear (default 5 s). */
  readonly linkWaitMs?: number;
  /** Told after every OpenAPI attempt and metadata request of a session (the daemon's latency metrics). */
  readonly onCall?: CloudCallObserver;
  /** The SDK clients of a session (tests inject short timeouts); default ./create.ts. */
  readonly createCloud?: typeof createAliyunCloud;
}

/** The node's primary ENI as the metadata service and the host see it (cached: it does not change). */
interface PrimaryEni {
  readonly mac: MacAddr;
  readonly ip: IpAddr;
  readonly cidr: Cidr;
  readonly gateway: IpAddr;
}

interface Session {
  readonly signature: string;
  readonly cloud: AliyunCloud;
  readonly eniConf: EniConf;
  readonly instanceId: string;
  readonly primary: PrimaryEni;
}

/** What changes the ECS client: where it talks to and with which credentials (compared, never logged). */
function sessionSignature(s: AliyunSettings, c: EniConf): string {
  return JSON.stringify([s.metadataEndpoint, s.ecsEndpoint ?? '', s.protocol, s.signature, s.readTimeoutMs, c.accessKey ?? '', c.accessSecret ?? '', c.credentialPath ?? '', c.rateLimit, c.backoffOverride, c.eniTags]);
}

/** Builds the Aliyun providers of the daemon's effective configs, sharing one session (and pool key) per instance. */
export class AliyunProviders {
  #session: Session | undefined;
  #building: Promise<Session> | undefined;

  constructor(readonly deps: AliyunProviderDeps) {}

  async providerFor(cfg: DaemonConfig, local: () => CloudProvider): Promise<CloudProvider> {
    if (cfg.mode === 'vpc') return local(); // VPC mode: the node's podCIDR, nothing from the cloud
    const settings = cfg.cloud.aliyun;
    if (settings === undefined) throw new ConfigError('cloud.provider', 'aliyun needs its settings');
    const eniConf = settings.eniConf;
    if (eniConf === undefined) throw new ConfigError('cloud.eniConf', "required with provider aliyun (Terway's eni_conf: vswitches, security_groups, credentials); with Kubernetes the eni-config ConfigMap's eni_conf");
    for (const w of settings.eniConfWarnings) this.deps.log.warn('cloud.eniConf: tolerated', { warning: w });
    const session = await this.#sessionFor(settings, eniConf);
    return this.#provider(cfg, session);
  }

  async #sessionFor(settings: AliyunSettings, eniConf: EniConf): Promise<Session> {
    const signature = sessionSignature(settings, eniConf);
    const have = this.#session;
    if (have !== undefined && have.signature === signature) {
      if (have.eniConf !== eniConf) this.#session = { ...have, eniConf }; // vSwitches, security groups, … take effect at the next call
      return this.#session ?? have;
    }
    // one build at a time (a config change while starting)
    await this.#building?.catch(() => undefined);
    const building = this.#build(settings, eniConf, signature);
    this.#building = building;
    const s = await building;
    if (have !== undefined && have.instanceId !== s.instanceId) throw new ConfigError('cloud.metadataEndpoint', `the metadata service now names instance ${s.instanceId}, not ${have.instanceId}: restart the daemon`);
    this.#session = s;
    this.deps.log.info(have === undefined ? 'aliyun provider ready' : 'aliyun provider: new ECS client (settings or credentials changed); the pool is kept', {
      instance: s.instanceId,
      credentials: s.cloud.credentialSource,
      ecsEndpoint: settings.ecsEndpoint ?? '(regional)',
      metadata: settings.metadataEndpoint,
      signature: settings.signature,
    });
    return s;
  }

  async #build(settings: AliyunSettings, eniConf: EniConf, signature: string): Promise<Session> {
    const create = this.deps.createCloud ?? (await import('./create.js')).createAliyunCloud;
    const cloud = await create({
      eniConf,
      metadataEndpoint: settings.metadataEndpoint,
      ...(settings.ecsEndpoint !== undefined ? { ecsEndpoint: settings.ecsEndpoint } : {}),
      protocol: settings.protocol,
      signatureAlgorithm: settings.signature === 'v2' ? 'v2' : 'ACS3-HMAC-SHA256',
      readTimeoutMs: settings.readTimeoutMs,
      logger: this.deps.log.child({ component: 'ecs' }),
      ...(this.deps.onCall !== undefined ? { onCall: this.deps.onCall } : {}),
    });
    const instanceId = await cloud.metadata.instanceId();
    const mac = await cloud.metadata.primaryMac();
    const m = await cloud.metadata.eni(mac);
    return { signature, cloud, eniConf, instanceId, primary: { mac, ip: m.primaryIp, cidr: networkCidr(m.vSwitchCidr), gateway: m.gateway } };
  }

  /** The session now (the factory reads it at every call: live credentials and eni_conf). */
  #current(): Session {
    const s = this.#session;
    if (s === undefined) throw new UnavailableError('aliyun provider: no session');
    return s;
  }

  #provider(cfg: DaemonConfig, session: Session): CloudProvider {
    const d = this.deps;
    const primary = session.primary;
    const eniConf = session.eniConf;
    const source: IpSource = { subnet: primary.cidr, addresses: setFromCidr(primary.cidr, 'metadata vswitch-cidr-block') };
    const serviceCidr = serviceCidrOf(cfg, eniConf);
    const hostIp = (cfg.mode === 'ipvlan' ? cfg.ipvlan?.hostIp : cfg.eni?.hostIp) ?? primary.ip;
    const factoryKey = `aliyun:${session.instanceId}`;
    const thisCurrent = (): Session => this.#current();
    const factory = {
      key: factoryKey,
      create: () =>
        createAliyunFactory({
          // read at every call: a new session (rotated credentials) or eni_conf serves the same pool
          get cloud() { return thisCurrent().cloud.cloud; },
          get metadata() { return thisCurrent().cloud.metadata; },
          get eniConf() { return thisCurrent().eniConf; },
        }),
    };
    const primaryFacts = onceUntilFailure(() => this.#eniFacts(primary.mac, primary.gateway, 0));
    const primaryEni = (): Promise<EniFacts | undefined> =>
      primaryFacts().catch((e: unknown) => { // asked again next time
        d.log.warn('aliyun: the primary ENI has no host link (node routes through it are not set up)', { mac: primary.mac, err: errorMessage(e) });
        return undefined;
      });
    // eni_conf's service_cidr first (the cluster's setting), else the mode's section
    const facts = (section: { readonly hostStackCidrs?: readonly Cidr[] } | undefined, field: string) => ({ hostIp, serviceCidr, hostStackCidrs: section?.hostStackCidrs ?? [], serviceCidrField: field });
    const exclusive = (): ExclusiveNodeFacts => exclusiveNodeFacts(facts(cfg.eni, 'eni_conf.service_cidr'));
    const ipvlan = (): IpvlanNodeFacts => ({ ...ipvlanNodeFacts(facts(cfg.ipvlan, 'eni_conf.service_cidr'), cfg.mtu), eniMac: primary.mac });
    return {
      name: 'aliyun',
      mode: cfg.mode,
      ipSource: () => source,
      localFacts: async (): Promise<LocalFacts> => {
        if (cfg.mode === 'eni') return { exclusive: exclusive() };
        const eni = await primaryEni();
        return { ...(eni !== undefined ? { eni } : {}), ...(cfg.mode === 'ipvlan' ? { ipvlan: ipvlan() } : {}) };
      },
      factory,
      eniFactsOf: (eni: EniResource) => this.#eniFacts(eni.mac, eni.gateway, d.linkWaitMs ?? 5_000),
      verify: async (): Promise<void> => {
        if (cfg.mode === 'ipvlan') {
          ipvlan(); // the service CIDR is required
          const problem = await ipvlanKernelProblem(d.read, d.runner);
          if (problem !== undefined) throw new ConfigError('mode', `ipvlan cannot run on this node: ${problem}; use veth-policy-routing (ENIMultiIP with eniip_virtual_type veth) here`);
        }
        if (cfg.mode === 'eni') exclusive();
        if (Object.keys(eniConf.vswitches).length === 0) throw new ConfigError('eni_conf.vswitches', 'required with provider aliyun (the vSwitches of the zone to create ENIs on)');
        if (eniConf.securityGroups.length === 0) throw new ConfigError('eni_conf.security_groups', 'required with provider aliyun (the security groups of the ENIs)');
      },
    };
  }

  /** The host link with `mac` (waiting up to `waitMs` for a just-attached ENI), its ifindex and ENI table. */
  async #eniFacts(mac: MacAddr, gateway: IpAddr, waitMs: number): Promise<EniFacts> {
    const until = Date.now() + waitMs;
    for (;;) {
      const link: IfName | undefined = await this.deps.linkByMac(mac);
      if (link !== undefined) {
        const raw = await this.deps.read(`/sys/class/net/${link}/ifindex`).catch(() => '');
        const ifindex = Number(raw.trim());
        if (Number.isInteger(ifindex) && ifindex > 0) return { link, ifindex, gateway, table: ENI_TABLE_BASE + ifindex };
      }
      if (Date.now() >= until) throw new UnavailableError(`ENI ${mac}: no host link with this MAC${waitMs > 0 ? ` after ${String(waitMs)} ms` : ''}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The service CIDR pods reach through the node: eni_conf `service_cidr` (IPv4), else the mode's section. */
function serviceCidrOf(cfg: DaemonConfig, c: EniConf): Cidr | undefined {
  const fromConf = c.serviceCidrs.find(isIpv4Cidr);
  if (fromConf !== undefined) return networkCidr(fromConf);
  return cfg.mode === 'ipvlan' ? cfg.ipvlan?.serviceCidr : cfg.mode === 'eni' ? cfg.eni?.serviceCidr : undefined;
}
