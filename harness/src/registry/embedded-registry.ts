/**
 * The embedded read-only registry: the zero-setup upstream of the local stack. It serves the OCI layouts
 * found under `root` at start (registry-handler.ts has the semantics) over node:http on 127.0.0.1. This file is the
 * only one here that touches node:http; it streams blob files straight from disk (no buffering), 1 MiB at a time.
 */
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { loadLayoutCatalog, type LayoutCatalog } from './layout-catalog.js';
import { createRegistryHandler, type RegistryResponse } from './registry-handler.js';

export interface EmbeddedRegistryOptions {
  /** directory holding one OCI image layout per repository (nested names are nested directories) */
  root: string;
  /** default 0: any free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** called for every request served (access log); default none */
  onRequest?: (entry: { method: string; target: string; status: number }) => void;
}

export interface StartedEmbeddedRegistry {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  catalog: LayoutCatalog;
  close(): Promise<void>;
}

async function send(req: IncomingMessage, res: ServerResponse, r: RegistryResponse): Promise<void> {
  res.writeHead(r.status, r.headers);
  if (req.method === 'HEAD' || r.body === undefined) {
    res.end();
    return;
  }
  if (Buffer.isBuffer(r.body)) {
    res.end(r.body);
    return;
  }
  if (r.body.end < r.body.start) {
    res.end();
    return;
  }
  await pipeline(
    createReadStream(r.body.file, { start: r.body.start, end: r.body.end, highWaterMark: 1024 * 1024 }),
    res,
  );
}

export async function startEmbeddedRegistry(options: EmbeddedRegistryOptions): Promise<StartedEmbeddedRegistry> {
  const catalog = await loadLayoutCatalog(options.root);
  const handle = createRegistryHandler(catalog);
  const host = options.host ?? '127.0.0.1';
  const server = createServer({ keepAliveTimeout: 30_000, highWaterMark: 1024 * 1024 }, (req, res) => {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    // request bodies (writes we refuse) are drained so keep-alive survives
    req.resume();
    handle({ method, target, headers: req.headers })
      .then(async (r) => {
        options.onRequest?.({ method, target, status: r.status });
        await send(req, res, r);
      })
      .catch((e: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: String((e as Error).message ?? e) }] }));
        } else {
          res.destroy(e as Error);
        }
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${hostInUrl}:${port}`,
    port,
    catalog,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
