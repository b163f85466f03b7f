import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, MUTANTS, SETTINGS, SETTING_NAMES, configTableMarkdown, loadConfig } from './config.js';
import { findPackageRoot } from './ranges/index.js';

const fail = (env: Record<string, string>): ConfigError => {
  try {
    loadConfig(env);
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted ' + JSON.stringify(env));
};

describe('loadConfig', () => {
  it("defaults are archeio's where archeio has them", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      adminPort: 8081,
      upstreamEndpoint: 'https://us-central1-docker.pkg.dev',
      upstreamPath: 'k8s-artifacts-prod/images',
      signatureEndpoint: null,
      defaultAwsBaseUrl: null,
      infoUrl: 'https://github.com/kubernetes/registry.k8s.io',
      privacyUrl: 'https://www.linuxfoundation.org/privacy-policy/',
      logLevel: 'info',
      routingSemantics: 'most-specific',
      protocolCompat: 'none',
      clientIpRule: { kind: 'gclb' },
      preserveQuery: true,
      bucketMap: '',
      allowUnmappedRegions: ['me-west-1', 'sa-west-1', 'us-south-1'],
      rangesRefreshIntervalS: 0,
      rangesMaxShrink: 0.1,
      blobCheckTimeoutMs: 1500,
      breakerThreshold: 5,
      breakerCooldownMs: 30000,
      mutant: null,
      allowMutants: false,
    });
  });

  it('reads every variable, trimming, with empty meaning unset', () => {
    const c = loadConfig({
      PORT: ' 0 ',
      HOST: '0.0.0.0',
      UPSTREAM_REGISTRY_ENDPOINT: 'http://127.0.0.1:5000/',
      UPSTREAM_REGISTRY_PATH: '/a/b/',
      SIGNATURE_UPSTREAM_ENDPOINT: 'https://sig.example',
      DEFAULT_AWS_BASE_URL: '',
      ROUTING_SEMANTICS: 'archeio',
      PROTOCOL_COMPAT: 'archeio',
      CLIENT_IP_RULE: 'xff-hops:2',
      PRESERVE_QUERY: 'off',
      ALLOW_UNMAPPED_REGIONS: '*',
      RANGES_MAX_SHRINK: '0.25',
      LOG_LEVEL: 'silent',
      REDIRECTOR_MUTANT: 'no-ipv6',
      REDIRECTOR_ALLOW_MUTANTS: 'YES',
      UNRELATED: 'x',
    });
    expect(c).toMatchObject({
      port: 0,
      host: '0.0.0.0',
      upstreamEndpoint: 'http://127.0.0.1:5000',
      upstreamPath: 'a/b',
      signatureEndpoint: 'https://sig.example',
      defaultAwsBaseUrl: null,
      routingSemantics: 'archeio',
      protocolCompat: 'archeio',
      clientIpRule: { kind: 'xff-hops', hops: 2 },
      preserveQuery: false,
      allowUnmappedRegions: '*',
      rangesMaxShrink: 0.25,
      logLevel: 'silent',
      mutant: 'no-ipv6',
      allowMutants: true,
    });
    expect(loadConfig({ ALLOW_UNMAPPED_REGIONS: ' us-east-9, ,af-x-1 ' }).allowUnmappedRegions).toEqual([
      'us-east-9',
      'af-x-1',
    ]);
    expect(loadConfig({ UPSTREAM_REGISTRY_PATH: '/' }).upstreamPath).toBe('');
  });

  it.each([
    [{ PORT: 'http' }, 'PORT', /whole number from 0 to 65535/],
    [{ PORT: '65536' }, 'PORT', /65535/],
    [{ ADMIN_PORT: '-1' }, 'ADMIN_PORT', /0 to 65535/],
    [{ UPSTREAM_REGISTRY_ENDPOINT: 'registry.k8s.io' }, 'UPSTREAM_REGISTRY_ENDPOINT', /absolute http\(s\) URL/],
    [{ UPSTREAM_REGISTRY_ENDPOINT: 'ftp://x' }, 'UPSTREAM_REGISTRY_ENDPOINT', /http or https/],
    [{ UPSTREAM_REGISTRY_ENDPOINT: 'https://x/?a=1' }, 'UPSTREAM_REGISTRY_ENDPOINT', /query, fragment or credentials/],
    [{ SIGNATURE_UPSTREAM_ENDPOINT: 'https://u:p@x' }, 'SIGNATURE_UPSTREAM_ENDPOINT', /credentials/],
    [{ DEFAULT_AWS_BASE_URL: 'https://x#f' }, 'DEFAULT_AWS_BASE_URL', /fragment/],
    [{ UPSTREAM_REGISTRY_PATH: 'a/../b' }, 'UPSTREAM_REGISTRY_PATH', /\. or \.\. segments/],
    [{ UPSTREAM_REGISTRY_PATH: 'a b' }, 'UPSTREAM_REGISTRY_PATH', /path segments/],
    [{ INFO_URL: '/relative' }, 'INFO_URL', /absolute/],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /one of trace, debug/],
    [{ ROUTING_SEMANTICS: 'lpm' }, 'ROUTING_SEMANTICS', /most-specific, archeio/],
    [{ PROTOCOL_COMPAT: 'go' }, 'PROTOCOL_COMPAT', /none, archeio/],
    [{ CLIENT_IP_RULE: 'leftmost' }, 'CLIENT_IP_RULE', /gclb/],
    [{ PRESERVE_QUERY: 'maybe' }, 'PRESERVE_QUERY', /true\/false/],
    [{ ALLOW_UNMAPPED_REGIONS: 'US-EAST-1' }, 'ALLOW_UNMAPPED_REGIONS', /not an AWS region name/],
    [{ RANGES_MAX_SHRINK: '1.5' }, 'RANGES_MAX_SHRINK', /fraction/],
    [{ RANGES_MAX_SHRINK: 'x' }, 'RANGES_MAX_SHRINK', /fraction/],
    [{ BLOB_CHECK_TIMEOUT_MS: '0' }, 'BLOB_CHECK_TIMEOUT_MS', /1 to/],
    [{ BLOB_CHECK_TIMEOUT_MS: '1.5' }, 'BLOB_CHECK_TIMEOUT_MS', /whole number/],
    [{ HEADERS_TIMEOUT_MS: '20000' }, 'HEADERS_TIMEOUT_MS', /exceeds REQUEST_TIMEOUT_MS/],
    [{ REDIRECTOR_MUTANT: 'evil' }, 'REDIRECTOR_MUTANT', /unknown mutant "evil"; known: ignore-xff/],
    [{ REDIRECTOR_MUTANT: 'redirect-302' }, 'REDIRECTOR_MUTANT', /REDIRECTOR_ALLOW_MUTANTS=1/],
  ])('%j is refused, naming %s', (env, setting, message) => {
    const err = fail(env as Record<string, string>);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.setting).toBe(setting);
    expect(err.message.startsWith(`${setting}: `)).toBe(true);
    expect(err.message).toMatch(message);
  });

  it('accepts every mutant when allowed', () => {
    for (const name of Object.keys(MUTANTS))
      expect(loadConfig({ REDIRECTOR_MUTANT: name, REDIRECTOR_ALLOW_MUTANTS: '1' }).mutant).toBe(name);
  });

  it('has unique variable names and a meaning for each', () => {
    expect(new Set(SETTING_NAMES).size).toBe(SETTING_NAMES.length);
    for (const s of Object.values(SETTINGS)) expect(s.doc.length).toBeGreaterThan(10);
  });
});

describe('docs/configuration.md', () => {
  it('carries exactly the table of the code', () => {
    const doc = readFileSync(join(findPackageRoot(import.meta.dirname), 'docs', 'configuration.md'), 'utf8');
    const m = /<!-- config-table:start -->\n([\s\S]*?)<!-- config-table:end -->/.exec(doc);
    expect(m, 'config-table markers').not.toBeNull();
    expect(m![1]).toBe(configTableMarkdown());
  });
});
