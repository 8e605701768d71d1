/** The tags that mark the hub's ENIs in ECS (the pool only adopts ENIs carrying them); `eni_conf.eni_tags` add to them. */
export const DEFAULT_ENI_TAGS = { creator: 'terway-hub' } as const;
