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
    for (const flag of ['--port', '--host', '--admin-port', '--upstream-registry-endpoint', '--signature-upstream-endpoint', '--default-aws-base-url', '--routing-semantics', '--protocol-compat', '--bucket-map', '--aws-ip-ranges', '--redirector-mutant']) {
      expect(io.out()).toContain(flag);
    }
  });

  it('flags beat the environment', () => {
    expect(envWithFlags({ PORT: '1', HOST: 'h' }, { port: '2', upstreamRegistryPath: 'x', ignored: true })).toEqual({ PORT: '2', HOST: 'h', UPSTREAM_REGISTRY_PATH: 'x' });
  });

  it('exits 2 naming the setting on invalid configuration', async () => {
    const io = captureIo('', { ROUTING_SEMANTICS: 'archeio' });
    expect(await main(['node', 'registry-canary', 'serve', '--port', 'eighty'], io)).toBe(2);
    expect(io.err()).toBe('registry-canary: invalid configuration: PORT: expected a whole number from 0 to 65535, got "eighty"\n');
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
    const msgs = io.out().trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toEqual(['listening', 'decision', 'draining', 'stopped']);
  });

  it('runServe reports bad configuration as a CliError', async () => {
    const before = process.listenerCount('SIGTERM');
    await expect(runServe({ PORT: 'x' }, captureIo())).rejects.toBeInstanceOf(CliError);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
