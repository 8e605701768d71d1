/**
 * The tag that marks the hub's ENIs in ECS: the pool adopts only ENIs carrying it — it alone, so ENIs made before an
 * `eni_conf.eni_tags` change are still found (filtering by every tag would leak them).
 */
import type { EniConf } from '../../config/eni-conf.js';

export const DEFAULT_ENI_TAGS = { creator: 'terway-hub' } as const;

/** The tags a new ENI gets: `eni_conf.eni_tags` (the cluster's now) under the marker, which they cannot override. */
export function eniTagsOf(c: Pick<EniConf, 'eniTags'>): Readonly<Record<string, string>> {
  return { ...c.eniTags, ...DEFAULT_ENI_TAGS };
}
