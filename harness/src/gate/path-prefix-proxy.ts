/**
 * A loopback reverse proxy that serves a registry under a repository prefix: `/v2/<prefix>/<name>/…` is forwarded
 * as `/v2/<name>/…` (anything else unchanged). Production's upstream is Artifact Registry at
 * `/v2/k8s-artifacts-prod/images/<name>` (docs/reference/archeio.md#deployment-layer UPSTREAM_REGISTRY_PATH); the local
 * stack's registries hold the repositories at the root, so this is how a loopback twin of production keeps production's
 * paths (docs/canary-operations.md "Testing the remote targets locally").
 *
 * The backend is bound late (`setBackend`), because the redirector must be told the proxy's URL before the stack
 * that owns the registry has started.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { forwardRequest } from '../stack/forward-request.js';

/** `/v2/<prefix>/rest` → `/v2/rest`; other targets unchanged (pure). */
export function stripRepositoryPrefix(target: string, prefix: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  if (p === '') return target;
  const head = `/v2/${p}/`;
  return target.startsWith(head) ? `/v2/${target.slice(head.length)}` : target;
}

export class PathPrefixProxy {
  private readonly server: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly sockets = new Set<Socket>();
  private backend: URL | null = null;
  url = '';

  constructor(private readonly prefix: string) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  setBackend(url: string): void {
    this.backend = new URL(url);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.backend === null) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('path-prefix proxy: no backend yet\n');
      return;
    }
    req.url = stripRepositoryPrefix(req.url ?? '/', this.prefix);
    await forwardRequest(req, res, { backend: this.backend, agent: this.agent });
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
