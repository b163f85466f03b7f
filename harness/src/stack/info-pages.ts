/**
 * Stand-ins for INFO_URL and PRIVACY_URL: production sends `/` to the project's page on GitHub and `/privacy` to
 * the Linux Foundation's policy. Locally both are tiny pages on loopback, so the browser suite can follow the
 * redirect and land somewhere real without internet access.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Started } from './stack-service.js';

const PAGES: Record<string, { title: string; body: string }> = {
  '/info': {
    title: 'registry-canary local stack: info',
    body: 'This page stands in for INFO_URL (production: https://github.com/kubernetes/registry.k8s.io).',
  },
  '/privacy': {
    title: 'registry-canary local stack: privacy',
    body: 'This page stands in for PRIVACY_URL (production: https://www.linuxfoundation.org/legal/privacy-policy).',
  },
};

function html(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>\n<body><h1>${title}</h1><p>${body}</p></body></html>\n`;
}

export class InfoPages {
  private readonly server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/$/, '');
    const page = PAGES[path];
    const status = page ? 200 : 404;
    const text = page ? html(page.title, page.body) : html('not found', 'No such page.');
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(req.method === 'HEAD' ? undefined : text);
  });
  private port = 0;

  start(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve(this);
      });
    });
  }

  get infoUrl(): string {
    return `http://127.0.0.1:${this.port}/info`;
  }

  get privacyUrl(): string {
    return `http://127.0.0.1:${this.port}/privacy`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** Starts the info and privacy pages on a free 127.0.0.1 port. */
export function startInfoPages(): Promise<Started<InfoPages>> {
  return new InfoPages().start();
}
