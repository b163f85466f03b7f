/** `registry-canary gate` usage errors (exit 64) and a description file that cannot be read (exit 2), without a stack. */
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-io.js';

const gate = async (...args: string[]) => {
  const io = captureIo();
  const code = await main(['node', 'registry-canary', 'gate', ...args], io);
  return { code, out: io.out(), err: io.err() };
};

describe('registry-canary gate: usage errors exit 64 with a message naming the flag', () => {
  it.each([
    [[], /--candidate NAME or --candidate-config FILE is required/],
    [['--candidate', 'sandbox'], /--baseline NAME or --baseline-config FILE is required/],
    [['--candidate', 'staging', '--baseline', 'production'], /--candidate must be one of local, sandbox, production/],
    [
      ['--candidate', 'sandbox', '--candidate-config', 'x.json', '--baseline', 'production'],
      /either --candidate or --candidate-config/,
    ],
    [
      ['--candidate', 'sandbox', '--baseline', 'production', '--candidate-semantics', 'archeio'],
      /--candidate-semantics applies to --candidate local only/,
    ],
    [
      ['--candidate', 'local', '--baseline', 'production', '--candidate-semantics', 'longest'],
      /--candidate-semantics must be most-specific or archeio/,
    ],
    [
      ['--candidate', 'sandbox', '--baseline', 'production', '--engine', 'process'],
      /--engine applies when a side is local/,
    ],
    [
      ['--candidate', 'sandbox', '--baseline', 'production', '--suite', 'nope'],
      /--suite: unknown suite nope .*\(or none\)/,
    ],
    [
      ['--candidate', 'sandbox', '--baseline', 'production', '--ip-echo', 'checkip'],
      /--ip-echo must be an http\(s\) URL/,
    ],
    [['--candidate', 'sandbox', '--baseline', 'production', '--accept', ' '], /--accept needs a pattern/],
    [
      ['--candidate', 'sandbox', '--baseline', 'production', '--concurrency', '0'],
      /--concurrency must be a whole number/,
    ],
    [['--candidate', 'sandbox', '--baseline', 'production', '--vantage', ' '], /--vantage needs a name/],
    [['--candidate', 'sandbox', '--baseline', 'production', '--bogus'], /unknown option/],
  ])('%j', async (args, message) => {
    const r = await gate(...args);
    expect(r.code).toBe(64);
    expect(r.err).toMatch(message);
  });

  it('a description that cannot be read is exit 2', async () => {
    const r = await gate(
      '--candidate-config',
      '/nonexistent/target.json',
      '--baseline',
      'production',
      '--suite',
      'none',
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot read target description \/nonexistent\/target.json: ENOENT/);
  });

  it('documents the verdict and exit codes in --help', async () => {
    const io = captureIo();
    await main(['node', 'registry-canary', 'gate', '--help'], io);
    expect(io.out().replace(/\s+/g, ' ')).toMatch(/exit 0 promote, 1 block, 2 unreachable, 64 usage/);
    expect(io.out()).toMatch(/--candidate-config <file>/);
  });
});
