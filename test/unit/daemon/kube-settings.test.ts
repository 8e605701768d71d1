import { describe, expect, it } from '@jest/globals';
import { parseDaemonConfig } from '../../../src/config/daemon-config.js';
import { kubeSettings } from '../../../src/main/daemon.js';

const base = parseDaemonConfig({ vpc: { podCIDR: '10.0.0.0/24' } });

describe('kubeSettings', () => {
  it('is off without a kubeconfig or the in-cluster env (podman, demo)', () => {
    expect(kubeSettings(base, {})).toEqual({ enabled: false });
    expect(kubeSettings(base, { KUBECONFIG: '' })).toEqual({ enabled: false });
  });
  it('uses --kubeconfig / config first, then KUBECONFIG, then in-cluster', () => {
    expect(kubeSettings({ ...base, kubeconfig: '/a' }, { KUBECONFIG: '/b' })).toEqual({ enabled: true, kubeconfig: '/a' });
    expect(kubeSettings(base, { KUBECONFIG: '/b' })).toEqual({ enabled: true, kubeconfig: '/b' });
    expect(kubeSettings(base, { KUBERNETES_SERVICE_HOST: '10.96.0.1' })).toEqual({ enabled: true });
  });
});
