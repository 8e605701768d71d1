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
    const text = renderConflist({ cniVersion: '1.0.0', cniVersions: ['1.0.0'], name: 'a"b<&>', socket: '/x', vethPrefix: 'c', mtu: 9000, logFile: '/l' });
    expect((JSON.parse(text) as { name: string }).name).toBe('a"b<&>');
  });
  it('is strict: a missing variable is an error', () => {
    expect(() => renderText('{{json missing}}', {})).toThrow(/missing variable/u);
    expect(() => renderConflist({ cniVersion: '1.0.0' } as never)).toThrow();
  });
});
