import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';
import { captureIo } from '../test-io.js';
import { envWithFlags, flagFor, runServe } from './serve.js';
import { CliError } from '../exit-codes.js';

describe('registry-canary serve', () => {
  it('derives a flag from every environment variable', async () => {
    expect(flagFor('UPSTREAM_REGISTRY_ENDPOINT')).toBe('upstream-registry-endpoint');
    const io = captureIo();
    expect(await main(['node', 'registry-canary', 'serve', '--help'], io)).toBe(0);
    for (const flag of [
      '--port',
      '--host',
      '--admin-port',
      '--upstream-registry-endpoint',
      '--signature-upstream-endpoint',
      '--default-aws-base-url',
      '--semantics',
      '--protocol-compat',
      '--bucket-map',
      '--aws-ranges',
      '--gcp-ranges',
      '--azure-ranges',
      '--redirector-mutant',
    ]) {
      expect(io.out()).toContain(flag);
    }
    // the variable-derived spellings of shared flags are hidden aliases
    expect(io.out()).not.toMatch(/--routing-semantics <|--aws-ip-ranges <|--gcp-ip-ranges <|--azure-ip-ranges </);
  });

  it('speaks the same flag vocabulary as the other commands, with the old spellings as hidden aliases', async () => {
    const helpOf = async (cmd: string[]) => {
      const io = captureIo();
      await main(['node', 'registry-canary', ...cmd, '--help'], io);
      return io.out();
    };
    const serve = await helpOf(['serve']);
    const explain = await helpOf(['explain']);
    for (const flag of [
      '--semantics',
      '--aws-ranges',
      '--gcp-ranges',
      '--azure-ranges',
      '--bucket-map',
      '--default-aws-base-url',
    ]) {
      expect(serve).toContain(`${flag} <`);
      expect(explain).toContain(`${flag} <`);
    }
    expect(envWithFlags({}, { semantics: 'archeio', awsRanges: 'a.json' })).toMatchObject({
      ROUTING_SEMANTICS: 'archeio',
      AWS_IP_RANGES: 'a.json',
    });
    expect(envWithFlags({}, { routingSemantics: 'archeio', awsIpRanges: 'a.json' })).toMatchObject({
      ROUTING_SEMANTICS: 'archeio',
      AWS_IP_RANGES: 'a.json',
    });
    expect(() => envWithFlags({}, { semantics: 'archeio', routingSemantics: 'most-specific' })).toThrow(
      /--semantics and --routing-semantics name the same setting/,
    );
    const io = captureIo();
    expect(await main(['node', 'registry-canary', 'serve', '--routing-semantics', 'lpm'], io)).toBe(64);
    expect(io.err()).toMatch(/ROUTING_SEMANTICS: expected one of most-specific, archeio/);
  });

  it('wraps --help to 100 columns when not on a terminal', async () => {
    for (const cmd of [
      [],
      ['serve'],
      ['explain'],
      ['run'],
      ['gate'],
      ['replay'],
      ['cost'],
      ['ranges', 'audit'],
      ['stack', 'up'],
    ]) {
      const io = captureIo();
      await main(['node', 'registry-canary', ...cmd, '--help'], io);
      const long = io
        .out()
        .split('\n')
        .filter((l) => l.length > 100 && l.trim().includes(' '));
      expect(long, cmd.join(' ')).toEqual([]);
    }
  });

  it('flags beat the environment', () => {
    expect(envWithFlags({ PORT: '1', HOST: 'h' }, { port: '2', upstreamRegistryPath: 'x', ignored: true })).toEqual({
      PORT: '2',
      HOST: 'h',
      UPSTREAM_REGISTRY_PATH: 'x',
    });
  });

  it('exits 2 naming the setting on invalid configuration', async () => {
    const io = captureIo('', { ROUTING_SEMANTICS: 'archeio', PORT: 'eighty' });
    expect(await main(['node', 'registry-canary', 'serve'], io)).toBe(2);
    expect(io.err()).toBe(
      'registry-canary: invalid configuration: PORT: expected a whole number from 0 to 65535, got "eighty"\n',
    );
    // the same value given as a flag is a usage error
    const flag = captureIo();
    expect(await main(['node', 'registry-canary', 'serve', '--port', 'eighty'], flag)).toBe(64);
    expect(flag.err()).toBe('registry-canary: --port: PORT: expected a whole number from 0 to 65535, got "eighty"\n');
    const io2 = captureIo();
    expect(await main(['node', 'registry-canary', 'serve', '--bucket-map', '/nonexistent.json'], io2)).toBe(2);
    expect(io2.err()).toMatch(/cannot start the redirector: BUCKET_MAP \/nonexistent.json: cannot read/);
  });

  it('serves until told to stop, logging to the CLI stdout', async () => {
    const io = captureIo();
    let announce: (url: string) => void = () => {};
    const started = new Promise<string>((r) => (announce = r));
    await runServe(
      { PORT: '0', ADMIN_PORT: '0' },
      io,
      async () => {
        const res = await request(`${await started}/v2/`);
        expect(res.statusCode).toBe(200);
        await res.body.dump();
        return 'test';
      },
      (s) => announce(s.url),
    );
    const msgs = io
      .out()
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    // the same lines, in the same order, as the deployable entry logs them
    expect(msgs).toEqual(['listening', 'decision', 'stopping', 'draining', 'stopped']);
  });

  it('runServe reports bad configuration as a CliError', async () => {
    const before = process.listenerCount('SIGTERM');
    await expect(runServe({ PORT: 'x' }, captureIo())).rejects.toBeInstanceOf(CliError);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
