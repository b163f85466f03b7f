/**
 * Forwards one HTTP request to a backend, streaming both bodies, the way a reverse proxy does: the request-target
 * is passed on byte for byte (no URL parsing, so `..`, `%2f` and `//` reach the backend as the client sent them),
 * redirects are returned to the client (never followed), and hop-by-hop headers stop here (RFC 9110 §7.6.1).
 *
 * Used by the edge (Google's load balancer stand-in) and the faults front; `requestBackend` is the bodiless
 * building block the buckets front's own Range handling (bucket-range.ts) uses to ask s3rver questions of its own.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export function endToEndHeaders(headers: IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const connectionTokens = String(headers.connection ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

export interface ForwardOptions {
  /** where the request goes: `http://127.0.0.1:<port>` */
  backend: URL;
  agent: http.Agent;
  /** headers to send instead of the client's (already filtered by the caller) */
  headers?: http.OutgoingHttpHeaders;
  /** a transform for the response body (the faults front's corruption), or null to copy it unchanged */
  responseBody?: (res: IncomingMessage) => Transform | null;
  /** called once the backend answered (or failed: status 502) */
  onStatus?: (status: number) => void;
}

/**
 * Sends `req` to the backend and the backend's answer to `res`. A backend that cannot be reached gets a 502, as a
 * load balancer would answer; a client that goes away aborts the backend request.
 */
export function forwardRequest(req: IncomingMessage, res: ServerResponse, opts: ForwardOptions): Promise<void> {
  return new Promise<void>((resolve) => {
    const upstream = http.request({
      host: opts.backend.hostname,
      port: opts.backend.port,
      method: req.method,
      path: req.url,
      headers: opts.headers ?? endToEndHeaders(req.headers),
      agent: opts.agent,
    });
    let answered = false;
    const fail = (err: Error) => {
      if (answered) {
        res.destroy(err);
        return resolve();
      }
      answered = true;
      opts.onStatus?.(502);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`bad gateway: ${err.message}\n`);
      } else {
        res.destroy();
      }
      resolve();
    };
    upstream.on('error', fail);
    res.on('close', () => {
      // the client left before the answer was complete: stop the backend request too
      if (!res.writableFinished) upstream.destroy();
      resolve();
    });
    upstream.on('response', (backendRes) => {
      answered = true;
      opts.onStatus?.(backendRes.statusCode ?? 502);
      res.writeHead(backendRes.statusCode ?? 502, backendRes.statusMessage, endToEndHeaders(backendRes.headers));
      const transform = opts.responseBody?.(backendRes) ?? null;
      const streams = transform ? pipeline(backendRes, transform, res) : pipeline(backendRes, res);
      streams.then(resolve, () => {
        res.destroy();
        resolve();
      });
    });
    pipeline(req, upstream).catch(() => upstream.destroy());
  });
}

export interface BackendRequestOptions {
  /** where the request goes: `http://127.0.0.1:<port>` */
  backend: URL;
  agent: http.Agent;
  method: string;
  /** the raw request-target, passed on byte for byte */
  path: string;
  headers: http.OutgoingHttpHeaders;
  /** aborts the request (and destroys its response) */
  signal?: AbortSignal;
}

/**
 * Sends one request without a body (GET, HEAD) and resolves with the backend's response, its body unread: the
 * caller consumes or destroys it. Rejects when the backend cannot be reached or the signal aborts first.
 */
export function requestBackend(opts: BackendRequestOptions): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const headers = { ...opts.headers };
    // no body goes with this request, whatever the client's request carried
    delete headers['content-length'];
    delete headers['transfer-encoding'];
    const upstream = http.request({
      host: opts.backend.hostname,
      port: opts.backend.port,
      method: opts.method,
      path: opts.path,
      headers,
      agent: opts.agent,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    // after the response arrived, errors belong to the response stream; before, they reject
    upstream.on('error', reject);
    upstream.on('response', resolve);
    upstream.end();
  });
}
