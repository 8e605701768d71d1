import type { Command, CommandOutput, CommandRunner } from '../../../src/lib/exec.js';
import { detectNftablesProblem } from '../../../src/policy/detect-nftables.js';

function runner(answer: (cmd: Command) => CommandOutput | Error): CommandRunner & { readonly calls: Command[] } {
  const calls: Command[] = [];
  return {
    calls,
    run: (cmd) => {
      calls.push(cmd);
      const a = answer(cmd);
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
  };
}

describe('detectNftablesProblem', () => {
  it('is undefined when `nft list tables` works (argv, no shell)', async () => {
    const r = runner(() => ({ exitCode: 0, stdout: 'table inet filter\n', stderr: '' }));
    expect(await detectNftablesProblem(r)).toBeUndefined();
    expect(r.calls).toEqual([expect.objectContaining({ file: 'nft', args: ['list', 'tables'] })]);
  });
  it('names the kernel refusal (no nf_tables) and a missing binary', async () => {
    const noKernel = runner(() => ({ exitCode: 1, stdout: '', stderr: 'mnl.c:60: Unable to initialize Netlink socket: Protocol not supported\n' }));
    expect(await detectNftablesProblem(noKernel)).toBe('nft list tables failed (exit 1): mnl.c:60: Unable to initialize Netlink socket: Protocol not supported');
    const missing = runner(() => new Error('spawn nft ENOENT'));
    expect(await detectNftablesProblem(missing)).toBe('nft cannot run: spawn nft ENOENT');
  });
});
