/**
 * The edge: a stand-in for Google's external Application Load Balancer in front of the redirector.
 *
 * It listens on one port per vantage. Each port behaves as if every client that connects to it came from that
 * vantage's address: it appends `<vantage-ip>,<lb-ip>` to X-Forwarded-For, after any value the client supplied,
 * which is what GCLB documents:
 *
 *   X-Forwarded-For: [<supplied-value>,]<client-ip>,<load-balancer-ip>
 *   (https://cloud.google.com/load-balancing/docs/https#x-forwarded-for_header)
 *
 * so real clients that cannot set headers (skopeo, ctr) pull "from" that vantage, and a client-supplied value can
 * be used to test that spoofing does not change the route. It also sets `X-Forwarded-Proto` and adds `Via: 1.1
 * google`, as GCLB does. Everything else is passed through unchanged: method, raw request-target, headers, bodies
 * in both directions, and the redirector's redirects (never followed).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { endToEndHeaders, forwardRequest } from './forward-request.js';
import type { Started } from './stack-service.js';

export interface EdgePortSpec {
  /** vantage name, for the stack's listing */
  name: string;
  /** the address stamped into X-Forwarded-For */
  clientIp: string;
}

export interface EdgeOptions {
  /** the redirector's direct URL */
  backend: string;
  /** the load balancer's own address, appended last */
  lbIp: string;
  ports: readonly EdgePortSpec[];
}

/**
 * The request headers the edge sends on: GCLB's X-Forwarded-For rule, X-Forwarded-Proto, Via. Pure, so the header
 * behaviour is unit-tested without sockets.
 */
export function edgeRequestHeaders(
  incoming: IncomingMessage['headers'],
  clientIp: string,
  lbIp: string,
): http.OutgoingHttpHeaders {
  const out = endToEndHeaders(incoming);
  // node joins repeated X-Forwarded-For headers with ", " (RFC 9110 §5.3 list semantics), so several supplied
  // headers stay in order, before the load balancer's entries.
  const supplied = incoming['x-forwarded-for'];
  const suppliedText = Array.isArray(supplied) ? supplied.join(', ') : supplied;
  out['x-forwarded-for'] =
    suppliedText !== undefined && suppliedText !== '' ? `${suppliedText},${clientIp},${lbIp}` : `${clientIp},${lbIp}`;
  out['x-forwarded-proto'] = 'http';
  const via = incoming.via;
  out.via = via ? `${Array.isArray(via) ? via.join(', ') : via}, 1.1 google` : '1.1 google';
  return out;
}

export interface EdgePort extends EdgePortSpec {
  url: string;
}

export class Edge {
  private readonly servers: http.Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  private readonly backend: URL;
  readonly ports: EdgePort[] = [];

  constructor(private readonly opts: EdgeOptions) {
    this.backend = new URL(opts.backend);
  }

  async start(): Promise<this> {
    await Promise.all(this.opts.ports.map((spec) => this.listen(spec)));
    // keep the listing in the order the vantages were given
    this.ports.sort(
      (a, b) =>
        this.opts.ports.findIndex((p) => p.name === a.name) - this.opts.ports.findIndex((p) => p.name === b.name),
    );
    return this;
  }

  urlFor(name: string): string | null {
    return this.ports.find((p) => p.name === name)?.url ?? null;
  }

  private listen(spec: EdgePortSpec): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(spec, req, res));
    server.keepAliveTimeout = 5_000;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.removeListener('error', reject);
        this.ports.push({ ...spec, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
        resolve();
      });
    });
  }

  private handle(spec: EdgePortSpec, req: IncomingMessage, res: ServerResponse): Promise<void> {
    return forwardRequest(req, res, {
      backend: this.backend,
      agent: this.agent,
      headers: edgeRequestHeaders(req.headers, spec.clientIp, this.opts.lbIp),
    });
  }

  /** Closes every port and connection. Idempotent. */
  async stop(): Promise<void> {
    const servers = this.servers.splice(0);
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
  }
}

/** Starts the edge: one 127.0.0.1 port per vantage in front of the redirector. */
export function startEdge(opts: EdgeOptions): Promise<Started<Edge>> {
  return new Edge(opts).start();
}
