/**
 * startRedirector: assemble, listen on the public and admin ports, and announce readiness with the one log line the
 * local stack parses:
 *
 *   {"level":30,"time":...,"msg":"listening","url":"http://127.0.0.1:PORT","adminUrl":"http://127.0.0.1:ADMIN_PORT",...}
 *
 * (PORT=0 / ADMIN_PORT=0 report the ports actually bound; the line is written at any LOG_LEVEL.) `close()` drains: /readyz turns 503, the public listener
 * stops accepting and in-flight requests get DRAIN_TIMEOUT_MS to finish, then everything stops.
 */
import type { Config } from '../config.js';
import { listenNodeHttp } from './node-adapter.js';
import { listenStrict } from './strict-listener.js';
import { assembleRedirector, type Redirector, type RedirectorDeps } from './redirector.js';

export interface StartedRedirector {
  /** the public (registry) listener, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  /** the admin listener: /metrics, /healthz, /readyz, /explain */
  readonly adminUrl: string;
  /** the assembled parts, for in-process callers (tests, benchmarks, the CLI) */
  readonly redirector: Redirector;
  /** drain and stop; idempotent */
  close(): Promise<void>;
}

export async function startRedirector(config: Config, deps: RedirectorDeps = {}): Promise<StartedRedirector> {
  const r = assembleRedirector(config, deps);
  const onError = (err: unknown, req: { method: string; target: string }): void =>
    r.logger.error({ err, method: req.method, path: req.target }, 'handler failed (a bug: please report it)');
  const server = await (config.httpListener === 'strict' ? listenStrict : listenNodeHttp)(r.handler, {
    host: config.host,
    port: config.port,
    headersTimeoutMs: config.headersTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    onError,
    onRefusal: (refusal) => r.refused(refusal),
  }).catch(async (err: unknown) => {
    await r.dispose();
    throw err;
  });
  const admin = await listenNodeHttp(r.admin, {
    host: config.adminHost,
    port: config.adminPort,
    headersTimeoutMs: 5_000,
    requestTimeoutMs: 30_000,
    onError,
  }).catch(async (err: unknown) => {
    await server.close();
    await r.dispose();
    throw err;
  });
  r.startBackground();
  // Written whatever LOG_LEVEL says (even `silent`): tools wait for this line, it is part of the interface.
  r.announce({
    url: server.url,
    adminUrl: admin.url,
    semantics: config.routingSemantics,
    protocolCompat: config.protocolCompat,
    mutant: config.mutant,
    upstream: r.router.table.upstreamPrefix,
    ranges: r.classifier().data.versions,
  });
  // do not leave it in the log buffer
  await new Promise<void>((resolve) => r.logger.flush(() => resolve()));

  let closing: Promise<void> | null = null;
  return {
    url: server.url,
    adminUrl: admin.url,
    redirector: r,
    close() {
      closing ??= (async () => {
        r.state.ready = false;
        r.logger.info({ inFlight: server.inFlight(), drainTimeoutMs: config.drainTimeoutMs }, 'draining');
        await server.close(config.drainTimeoutMs);
        await admin.close();
        r.logger.info('stopped');
        await r.dispose();
      })();
      return closing;
    },
  };
}
