/** The builtin backend's nftables tables: the node's (veth modes) and the one in each pod netns (ipvlan, eni). */
export const HOST_TABLE = 'terway-hub';
export const POD_TABLE = 'terway-hub-pod';
