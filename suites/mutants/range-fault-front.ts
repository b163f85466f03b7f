/**
 * A bucket front that mishandles Range, for proving the harness catches it ("Range is mishandled"). It sits
 * in front of the local stack's bucket server; requests without Range pass through untouched, so existence HEADs and
 * plain pulls still work, and only a resumed or parallel download sees the fault:
 * - `status-400`: every ranged GET gets 400 with an S3-style XML body: what the new CDN did in the field
 *   (docs/reference/incidents.md#routing-and-client-ip R7, kubernetes/registry.k8s.io#333);
 * - `corrupt`: ranged answers keep their status and headers but the first body byte is flipped.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RangeFaultMode = 'status-400' | 'corrupt';

export class RangeFaultFront {
  private readonly server: http.Server;
  mode: RangeFaultMode = 'status-400';
  /** ranged requests seen */
  ranged = 0;

  constructor(private readonly backendOrigin: string) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  start(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve(this));
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const range = req.headers.range;
    if (range !== undefined) this.ranged++;
    if (range !== undefined && this.mode === 'status-400') {
      req.resume();
      const body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code><Message>Invalid Argument</Message></Error>';
      res.writeHead(400, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const headers = { ...req.headers, host: new URL(this.backendOrigin).host };
    const up = http.request(`${this.backendOrigin}${req.url ?? '/'}`, { method: req.method, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      let first = range !== undefined && this.mode === 'corrupt' && ur.statusCode === 206;
      ur.on('data', (chunk: Buffer) => {
        if (first && chunk.byteLength > 0) {
          chunk = Buffer.from(chunk);
          chunk[0] = chunk[0]! ^ 0xff;
          first = false;
        }
        res.write(chunk);
      });
      ur.on('end', () => res.end());
      ur.on('error', () => res.destroy());
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
