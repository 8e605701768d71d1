import { parseBandwidthAnnotations } from '../../../src/bandwidth/annotations.js';
import { defaultBurstBits } from '../../../src/bandwidth/burst.js';
import { IFB_PREFIX, ifbName, isHubIfbName } from '../../../src/bandwidth/names.js';
import { parseQuantity } from '../../../src/bandwidth/quantity.js';
import { ConfigError } from '../../../src/lib/errors.js';

const rate = (a: Record<string, string>, dir: 'ingress' | 'egress'): number | undefined => parseBandwidthAnnotations(a)?.[dir]?.rateBps;

describe('parseBandwidthAnnotations', () => {
  it('returns undefined without bandwidth annotations', () => {
    expect(parseBandwidthAnnotations({})).toBeUndefined();
    expect(parseBandwidthAnnotations({ 'other/x': '10M' })).toBeUndefined();
  });
  it.each([
    ['10M', 10_000_000],
    ['1Gi', 1_073_741_824],
    ['500k', 500_000],
    ['1k', 1000],
    ['1.5M', 1_500_000],
    ['1.1k', 1100],
    ['100Mi', 104_857_600],
    ['1e6', 1_000_000],
    ['1P', 1e15],
    [' 20M ', 20_000_000],
  ])('kubernetes.io quantity %j = %d bit/s', (v, bits) => {
    expect(rate({ 'kubernetes.io/ingress-bandwidth': v }, 'ingress')).toBe(bits);
    expect(rate({ 'kubernetes.io/egress-bandwidth': v }, 'egress')).toBe(bits);
  });
  it.each([
    ['10M', 10 * 1024 * 1024 * 8],
    ['10m', 10 * 1024 * 1024 * 8],
    ['10MB', 10 * 1024 * 1024 * 8],
    ['10MiB', 10 * 1024 * 1024 * 8],
    ['1G', 1024 ** 3 * 8],
    ['512K', 512 * 1024 * 8],
    ['2000B', 16000],
    ['1.5M', 1.5 * 1024 * 1024 * 8],
  ])('k8s.aliyun.com value %j = %d bit/s (bytes/s, binary)', (v, bits) => {
    expect(rate({ 'k8s.aliyun.com/ingress-bandwidth': v }, 'ingress')).toBe(bits);
  });
  it('the same "10M" means 10 Mbit/s for kubernetes.io and ~83.9 Mbit/s for Terway', () => {
    expect(rate({ 'kubernetes.io/ingress-bandwidth': '10M' }, 'ingress')).toBe(10_000_000);
    expect(rate({ 'k8s.aliyun.com/ingress-bandwidth': '10M' }, 'ingress')).toBe(83_886_080);
  });
  it('kubernetes.io wins over k8s.aliyun.com per direction', () => {
    const spec = parseBandwidthAnnotations({
      'kubernetes.io/ingress-bandwidth': '10M',
      'k8s.aliyun.com/ingress-bandwidth': '1M',
      'k8s.aliyun.com/egress-bandwidth': '1M',
    });
    expect(spec).toEqual({
      ingress: { rateBps: 10_000_000, burstBits: defaultBurstBits(10_000_000) },
      egress: { rateBps: 8 * 1024 * 1024, burstBits: defaultBurstBits(8 * 1024 * 1024) },
    });
  });
  it.each([
    ['kubernetes.io/ingress-bandwidth', '0'],
    ['kubernetes.io/ingress-bandwidth', '-1'],
    ['kubernetes.io/ingress-bandwidth', '-10M'],
    ['kubernetes.io/ingress-bandwidth', '999'],
    ['kubernetes.io/ingress-bandwidth', '100m'],
    ['kubernetes.io/egress-bandwidth', '2P'],
    ['kubernetes.io/egress-bandwidth', '1Ei'],
    ['kubernetes.io/egress-bandwidth', 'garbage'],
    ['kubernetes.io/egress-bandwidth', '10 M'],
    ['kubernetes.io/egress-bandwidth', '10MB'],
    ['kubernetes.io/egress-bandwidth', ''],
    ['k8s.aliyun.com/ingress-bandwidth', '0M'],
    ['k8s.aliyun.com/ingress-bandwidth', '-1M'],
    ['k8s.aliyun.com/ingress-bandwidth', '100'],
    ['k8s.aliyun.com/ingress-bandwidth', '10X'],
    ['k8s.aliyun.com/ingress-bandwidth', 'M'],
    ['k8s.aliyun.com/ingress-bandwidth', '100B'],
    ['k8s.aliyun.com/egress-bandwidth', '200T'],
  ])('%s=%j throws ConfigError naming the annotation and the value', (name, v) => {
    let err: unknown;
    try {
      parseBandwidthAnnotations({ [name]: v });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe(name);
    expect((err as ConfigError).message).toContain(JSON.stringify(v));
  });
  it('a bad Terway value is an error even when kubernetes.io is also set', () => {
    expect(() => parseBandwidthAnnotations({ 'kubernetes.io/ingress-bandwidth': '10M', 'k8s.aliyun.com/ingress-bandwidth': 'x' })).toThrow(ConfigError);
  });
  it('parses quantities exactly', () => {
    expect(parseQuantity('1.1k')).toEqual({ negative: false, num: 1100n, den: 1n });
    expect(parseQuantity('1.5m')).toEqual({ negative: false, num: 15n, den: 10000n });
    expect(parseQuantity('1Ki')).toEqual({ negative: false, num: 1024n, den: 1n });
    expect(parseQuantity('1x')).toBeUndefined();
  });
});

describe('ifb names', () => {
  it('are 15 chars, prefixed, stable and distinct per attachment', () => {
    const a = ifbName('c0ffee', 'eth0');
    expect(a).toHaveLength(15);
    expect(a.startsWith(IFB_PREFIX)).toBe(true);
    expect(ifbName('c0ffee', 'eth0')).toBe(a);
    expect(ifbName('c0ffee', 'eth1')).not.toBe(a);
    expect(isHubIfbName(a)).toBe(true);
    expect(isHubIfbName('bwpa8eda89404b7')).toBe(false);
    expect(isHubIfbName('hubbzzzzzzzzzzz')).toBe(false);
  });
  it('uses sha1 of "containerId/ifName"', () => {
    // sha1("c0ffee/eth0") = 637712c8083… (node:crypto, computed independently)
    expect(ifbName('c0ffee', 'eth0')).toBe('hubb637712c8083');
  });
});
