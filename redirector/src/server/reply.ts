/**
 * Rendering a decided plan as an HTTP reply: status, headers as a flat [name, value, ...] list (what node's
 * writeHead takes without re-shaping), and a body. Pure; the node adapter only copies these onto the socket.
 *
 * Default flavour (archeio's quirks Q5, Q6, Q15 fixed: docs/reference/archeio.md#quirks):
 *  - 307 with an empty body and `Cache-Control: private, no-store`: a blob Location depends on the client's address
 *    and on the bucket's contents at that moment, so no shared or private cache may replay it to anyone, or later;
 *    the other redirects get the same header because a cached redirect would outlive a configuration change;
 *  - errors on /v2 as OCI JSON `{"errors":[{code,message,detail}]}` (distribution-spec "Error Codes"), others as
 *    text; 405 carries `Allow: GET, HEAD` (RFC 9110 §15.5.6).
 * archeio flavour (PROTOCOL_COMPAT=archeio): what Go's `http.Redirect` and `http.Error` write
 * (docs/reference/archeio.md#decision-list): an HTML body on GET redirects, no Cache-Control, `text/plain;
 * charset=utf-8` plus `X-Content-Type-Options: nosniff` errors.
 */
import type { ErrorAnswer, PingAnswer, RedirectPlan } from '../routing/index.js';

export interface Reply {
  status: number;
  /** flat list: name, value, name, value, ... */
  headers: string[];
  body: string;
}

export interface ReplyRenderer {
  redirect(plan: RedirectPlan, method: string): Reply;
  answer(plan: ErrorAnswer | PingAnswer): Reply;
}

// Shared replies are frozen, headers included: listeners may remember what they made of a frozen list
// (strict-listener.ts keeps its validated wire text).
const PING_REPLY: Reply = Object.freeze({
  status: 200,
  headers: Object.freeze(['Docker-Distribution-Api-Version', 'registry/2.0', 'Content-Length', '0']) as string[],
  body: '',
});

/** Renders an error or ping answer (the same in both flavours, apart from what the plan already says). */
function answer(plan: ErrorAnswer | PingAnswer): Reply {
  if (plan.kind === 'ping') return PING_REPLY;
  const headers: string[] = [];
  let body: string;
  if (plan.oci !== undefined) {
    const error: Record<string, unknown> = { code: plan.oci.code, message: plan.oci.message };
    if (plan.oci.detail !== undefined) error.detail = plan.oci.detail;
    body = JSON.stringify({ errors: [error] }) + '\n';
    headers.push('Content-Type', 'application/json');
  } else {
    body = plan.text ?? '';
    headers.push('Content-Type', 'text/plain; charset=utf-8', 'X-Content-Type-Options', 'nosniff');
  }
  if (plan.allow === true) headers.push('Allow', 'GET, HEAD');
  headers.push('Content-Length', String(Buffer.byteLength(body)));
  return { status: plan.status, headers, body };
}

export function createReplyRenderer(flavour: 'default' | 'archeio'): ReplyRenderer {
  if (flavour === 'archeio') {
    return {
      redirect(plan, method) {
        const body = method === 'GET' ? `<a href="${goHtmlEscape(plan.location)}">Temporary Redirect</a>.\n\n` : '';
        return {
          status: 307,
          headers: [
            'Location',
            plan.location,
            'Content-Type',
            'text/html; charset=utf-8',
            'Content-Length',
            String(Buffer.byteLength(body)),
          ],
          body,
        };
      },
      answer,
    };
  }
  // A redirect's reply depends on its plan alone: one reply per shared (frozen) plan, as PING_REPLY is one for all pings.
  const replies = new WeakMap<RedirectPlan, Reply>();
  const render = (plan: RedirectPlan): Reply => ({
    status: 307,
    headers: ['Location', plan.location, 'Cache-Control', 'private, no-store', 'Content-Length', '0'],
    body: '',
  });
  return {
    redirect(plan) {
      const known = replies.get(plan);
      if (known !== undefined && known.headers[1] === plan.location) return known;
      const reply = render(plan);
      if (!Object.isFrozen(plan)) return reply;
      Object.freeze(reply.headers);
      replies.set(plan, Object.freeze(reply));
      return reply;
    },
    answer,
  };
}

/** Go's html.EscapeString as net/http's htmlEscape uses it (& < > " '). */
function goHtmlEscape(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c] as string,
  );
}
