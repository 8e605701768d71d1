/**
 * Terway's daemon mode (+ the CNI `eniip_virtual_type`, matched case-insensitively as Terway does: `IPVlan`,
 * `ipvlan`) → the hub's dataplane. Pure; modes the hub cannot run yet are ConfigErrors naming the field that asked
 * for them.
 */
import { ConfigError } from '../lib/errors.js';
import type { ModeName } from '../modes/types.js';
import { CONF_KEY, type CniSettings } from './cni-settings.js';
import type { DaemonMode } from './eni-config.js';

export function hubModeFor(daemonMode: DaemonMode, cni: CniSettings): ModeName {
  switch (daemonMode) {
    case 'VPC':
      return 'vpc';
    case 'ENI':
      return 'eni';
    case 'ENIMultiIP': {
      const field = `${cni.source === 'default' ? CONF_KEY : cni.source}.eniip_virtual_type`;
      if (cni.eniipVirtualType === 'veth') return 'veth-policy-routing';
      if (cni.eniipVirtualType === 'ipvlan') return 'ipvlan';
      throw new ConfigError(field, `${cni.eniipVirtualType} is not available yet with ENIMultiIP; use "veth" or "IPVlan"`);
    }
  }
}
