import { describe, expect, it } from '@jest/globals';
import { requestedIp } from '../../../src/cni/requested-ip.js';
import type { AttachmentEnv } from '../../../src/cni/args.js';
import { parseCniArgs } from '../../../src/cni/cni-args.js';
import type { NetConf } from '../../../src/cni/config.js';

const env = (args: string): AttachmentEnv => ({ containerId: 'c1', ifName: 'eth0', netns: '/var/run/netns/x', path: '', args: parseCniArgs(args) }) as unknown as AttachmentEnv;
const conf = (runtimeConfig?: Record<string, unknown>): NetConf => ({ ...(runtimeConfig !== undefined ? { runtimeConfig } : {}) }) as unknown as NetConf;

describe('requestedIp', () => {
  it('takes CNI_ARGS IP= and the libcni ips capability (IPv4 entry), and nothing when neither is given', () => {
    expect(requestedIp(env('IgnoreUnknown=1;IP=10.1.2.3'), conf())).toBe('10.1.2.3');
    expect(requestedIp(env(''), conf({ ips: ['10.1.2.4/24', 'fd00::4/64'] }))).toBe('10.1.2.4');
    expect(requestedIp(env(''), conf())).toBeUndefined();
    expect(requestedIp(env('IgnoreUnknown=1;IP=10.1.2.3'), conf({ ips: ['10.1.2.3/24'] }))).toBe('10.1.2.3');
  });
  it('refuses contradictions and malformed capability values with code 7 naming them', () => {
    expect(() => requestedIp(env('IgnoreUnknown=1;IP=10.1.2.3'), conf({ ips: ['10.1.2.9/24'] }))).toThrow(expect.objectContaining({ code: 7, details: expect.stringMatching(/IP=10\.1\.2\.3 and runtimeConfig\.ips 10\.1\.2\.9/u) }));
    expect(() => requestedIp(env(''), conf({ ips: ['10.1.2.3/24', '10.1.2.4/24'] }))).toThrow(expect.objectContaining({ code: 7 }));
    expect(() => requestedIp(env(''), conf({ ips: 'x' }))).toThrow(expect.objectContaining({ code: 7 }));
    expect(() => requestedIp(env(''), conf({ ips: ['bogus'] }))).toThrow(expect.objectContaining({ code: 7 }));
  });
});
