/**
 * Builds the Aliyun provider's cloud client from `eni_conf`: the metadata client (endpoint configurable), the
 * credentials (eni_conf keys, credential_path file, or the instance RAM role), the SDK transport (region from the
 * metadata service unless given), rate limits (`rate_limit`) and backoff (`backoff_override`).
 */
import type { EniConf } from '../../config/eni-conf.js';
import type { Logger } from '../../lib/log.js';
import { backoffTable } from './backoff.js';
import { realClock, type Clock } from './clock.js';
import { createCredentialProvider } from './credentials.js';
import { AliyunEcsClient } from './ecs-client.js';
import { createMetadataClient } from './metadata.js';
import { Redactor } from './redact.js';
import { createSdkTransport, type SdkOptions } from './sdk.js';
import type { CloudCallObserver } from './call-observer.js';
import type { AliyunEniCloud, MetadataClient } from './types.js';

export interface AliyunCloudOptions {
  readonly eniConf: EniConf;
  /** Default http://100.100.100.200. */
  readonly metadataEndpoint?: string;
  /** `host[:port]` of the ECS OpenAPI (default: the SDK's regional endpoint). */
  readonly ecsEndpoint?: string;
  readonly protocol?: SdkOptions['protocol'];
  readonly signatureAlgorithm?: SdkOptions['signatureAlgorithm'];
  readonly readTimeoutMs?: number;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Told after every OpenAPI attempt and metadata request (the daemon's latency metrics). */
  readonly onCall?: CloudCallObserver;
}

export interface AliyunCloud {
  readonly cloud: AliyunEniCloud;
  readonly metadata: MetadataClient;
  /** `eni_conf` | `file` | `ram-role`. */
  readonly credentialSource: string;
  /** Redacts this provider's secrets from any text (for callers that log cloud errors). */
  readonly redact: (text: string) => string;
}


export async function createAliyunCloud(o: AliyunCloudOptions, signal?: AbortSignal): Promise<AliyunCloud> {
  const clock = o.clock ?? realClock;
  const redactor = new Redactor();
  const metadata = createMetadataClient({ ...(o.metadataEndpoint === undefined ? {} : { endpoint: o.metadataEndpoint }), clock, ...(o.onCall === undefined ? {} : { onCall: o.onCall }) });
  const c = o.eniConf;
  const credentials = createCredentialProvider(
    { ...(c.accessKey === undefined ? {} : { accessKey: c.accessKey }), ...(c.accessSecret === undefined ? {} : { accessSecret: c.accessSecret }), ...(c.credentialPath === undefined ? {} : { credentialPath: c.credentialPath }), metadata },
    redactor,
    clock,
  );
  // Terway: the region comes from the metadata service (eni_conf.region_id is informational)
  const regionId = await metadata.regionId(signal);
  const instanceId = await metadata.instanceId(signal);
  const transport = createSdkTransport({
    regionId,
    ...(o.ecsEndpoint === undefined ? {} : { endpoint: o.ecsEndpoint }),
    ...(o.protocol === undefined ? {} : { protocol: o.protocol }),
    ...(o.signatureAlgorithm === undefined ? {} : { signatureAlgorithm: o.signatureAlgorithm }),
    ...(o.readTimeoutMs === undefined ? {} : { readTimeoutMs: o.readTimeoutMs }),
  });
  const cloud = new AliyunEcsClient({
    transport,
    credentials,
    metadata,
    redactor,
    regionId,
    instanceId,
    rateLimit: c.rateLimit,
    backoff: backoffTable(c.backoffOverride),
    clock,
    ...(o.random === undefined ? {} : { random: o.random }),
    ...(o.logger === undefined ? {} : { logger: o.logger }),
    ...(o.onCall === undefined ? {} : { onCall: o.onCall }),
  });
  return { cloud, metadata, credentialSource: credentials.source, redact: (t) => redactor.redact(t) };
}
