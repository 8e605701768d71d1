import { describe, expect, it } from '@jest/globals';
import { renderConflist, renderText } from '../../../src/templates/render.js';

describe('renderConflist', () => {
  it('renders the golden conflist as valid JSON', () => {
    const text = renderConflist({
      cniVersion: '1.0.0',
      cniVersions: ['0.4.0', '1.0.0', '1.1.0'],
      name: 'terway-hub',
      socket: '/var/run/terway-hub/daemon.sock',
      vethPrefix: 'cali',
      mtu: 1500,
      logFile: '/var/log/terway-hub/cni.log',
      capabilities: { bandwidth: true },
      shaping: true,
      chain: [],
    });
    expect(JSON.parse(text)).toEqual({
      cniVersion: '1.0.0',
      cniVersions: ['0.4.0', '1.0.0', '1.1.0'],
      name: 'terway-hub',
      plugins: [
        {
          type: 'terway-hub',
          socket: '/var/run/terway-hub/daemon.sock',
          vethPrefix: 'cali',
          mtu: 1500,
          logFile: '/var/log/terway-hub/cni.log',
          capabilities: { bandwidth: true },
        },
      ],
    });
  });
  it('escapes values as JSON, not HTML', () => {
    const text = renderConflist({ cniVersion: '1.0.0', cniVersions: ['1.0.0'], name: 'a"b<&>', socket: '/x', vethPrefix: 'c', mtu: 9000, logFile: '/l', capabilities: {}, shaping: true, chain: [] });
    expect((JSON.parse(text) as { name: string }).name).toBe('a"b<&>');
  });
  it('renders a chain: the hub first, the user plugins after in order, "shaping": false when another plugin shapes', () => {
    const text = renderConflist({
      cniVersion: '1.0.0',
      cniVersions: ['0.4.0', '1.0.0'],
      name: 'chained',
      socket: '/x',
      vethPrefix: 'cali',
      mtu: 1500,
      logFile: '/l',
      capabilities: { portMappings: true },
      shaping: false,
      chain: [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }, { type: 'bandwidth', capabilities: { bandwidth: true } }],
    });
    const o = JSON.parse(text) as { plugins: Record<string, unknown>[] };
    expect(o.plugins.map((p) => p.type)).toEqual(['terway-hub', 'portmap', 'bandwidth']);
    expect(o.plugins[0]).toMatchObject({ shaping: false, capabilities: { portMappings: true } });
    expect(o.plugins[1]).toEqual({ type: 'portmap', capabilities: { portMappings: true }, snat: true });
  });
  it('is strict: a missing variable is an error', () => {
    expect(() => renderText('{{json missing}}', {})).toThrow(/missing variable/u);
    expect(() => renderConflist({ cniVersion: '1.0.0' } as never)).toThrow();
  });
});
