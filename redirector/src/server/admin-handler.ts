/**
 * The admin listener's handler, on its own port so the public surface stays exactly the registry's:
 *  - `/metrics`: Prometheus text format;
 *  - `/healthz`: 200 while the process serves;
 *  - `/readyz`: 200 while accepting traffic, 503 once draining; names the routing mode and any active mutant;
 *  - `/explain?ip=&path=&method=[&probe=1]`: the JSON decision trace (explain.ts).
 * In-memory like the request handler; node-adapter.ts serves it.
 */
import type { RangeVersions } from '../ranges/index.js';
import { explainRequest, ExplainError, type ExplainDeps } from './explain.js';
import type { Reply } from './reply.js';
import type { HttpRequest } from './request-handler.js';
import type { RedirectorMetrics } from './metrics.js';

export interface AdminState {
  /** false once draining */
  ready: boolean;
}

export interface AdminDeps {
  metrics: Pick<RedirectorMetrics, 'scrape'>;
  explain: ExplainDeps;
  state: AdminState;
  mutant: string | null;
  protocolCompat: string;
  rangeVersions(): RangeVersions;
}

function json(status: number, value: unknown): Reply {
  const body = JSON.stringify(value, null, 2) + '\n';
  return {
    status,
    headers: [
      'Content-Type',
      'application/json',
      'Cache-Control',
      'no-store',
      'Content-Length',
      String(Buffer.byteLength(body)),
    ],
    body,
  };
}

function text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): Reply {
  return {
    status,
    headers: [
      'Content-Type',
      contentType,
      'Cache-Control',
      'no-store',
      'Content-Length',
      String(Buffer.byteLength(body)),
    ],
    body,
  };
}

export function createAdminHandler(deps: AdminDeps): (req: HttpRequest) => Promise<Reply> {
  return async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const r = text(405, 'only GET and HEAD are allowed\n');
      r.headers.push('Allow', 'GET, HEAD');
      return r;
    }
    const url = new URL(req.target, 'http://admin.invalid');
    switch (url.pathname) {
      case '/metrics': {
        const m = await deps.metrics.scrape();
        return text(200, m.body, m.contentType);
      }
      case '/healthz':
        return text(200, 'ok\n');
      case '/readyz':
        return json(deps.state.ready ? 200 : 503, {
          status: deps.state.ready ? 'ready' : 'draining',
          semantics: deps.explain.semantics,
          protocolCompat: deps.protocolCompat,
          mutant: deps.mutant,
          ranges: deps.rangeVersions(),
        });
      case '/explain': {
        const q = url.searchParams;
        const path = q.get('path') ?? '';
        if (!path.startsWith('/'))
          return json(400, { error: 'path: give the request path to explain, e.g. path=/v2/pause/blobs/sha256:...' });
        try {
          const trace = await explainRequest(
            {
              ip: q.get('ip') || null,
              path,
              method: (q.get('method') || 'GET').toUpperCase(),
              probe: q.get('probe') === '1',
            },
            deps.explain,
          );
          return json(200, trace);
        } catch (err) {
          if (err instanceof ExplainError) return json(400, { error: err.message });
          throw err;
        }
      }
      default:
        return text(404, 'not found: try /metrics, /healthz, /readyz or /explain?ip=&path=\n');
    }
  };
}
