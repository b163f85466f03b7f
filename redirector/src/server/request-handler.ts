/**
 * The registry-facing request handler: request facts in, reply out, no sockets (Hono's `app.request`
 * idea). Tests call it in memory; node-adapter.ts is the only thing that connects it to node:http.
 *
 * Flow: route() (pure, path only) → for blobs, client facts (client-IP rule, range lookup; remembered per
 * X-Forwarded-For value) → planBlob() (pure) →
 * for probe plans, the blob probe (the only I/O) → reply. The probe's synchronous `peek` keeps a cached decision
 * free of promises. Every request ends in exactly one `onDecision` call, which logs and counts it.
 */
import { clientIp, type ClientIpRule, type Ip } from '../net/index.js';
import type { Classification } from '../ranges/index.js';
import type { ProbeResult } from '../blobs/index.js';
import {
  SlotMemo,
  resolveProbe,
  UNKNOWN_CLIENT,
  type BlobRoute,
  type ClientFacts,
  type Plan,
  type ProbePlan,
  type Router,
} from '../routing/index.js';
import type { Reply, ReplyRenderer } from './reply.js';

/** What the handler needs to know about one request. */
export interface HttpRequest {
  readonly method: string;
  /** the raw request-target */
  readonly target: string;
  /** the X-Forwarded-For value (several header lines joined with ", "), if any */
  readonly xff: string | undefined;
  /** the connection's peer address */
  readonly remoteAddress: string | undefined;
}

/** The Location a decision answered with, or null when it was not a redirect. */
export function decisionLocation(d: Decision): string | null {
  return d.plan.kind === 'redirect' ? d.plan.location : null;
}

export type RequestHandler = (req: HttpRequest) => Reply | Promise<Reply>;

/** The blob probe as the handler uses it (BlobProbe, or a mutant's stand-in). */
export interface BlobProber {
  peek(base: string, url: string): ProbeResult | undefined;
  check(base: string, url: string): Promise<ProbeResult>;
}

/** Classifies a parsed (and, under most-specific semantics, already unmapped) address. */
export type Classify = (ip: Ip) => Classification | null;

/** Everything about one answered request that the log line and the metrics need. */
export interface Decision {
  readonly method: string;
  readonly target: string;
  /** the answered plan: its reason, and for a redirect its Location (decisionLocation) */
  readonly plan: Exclude<Plan, ProbePlan>;
  /** the blob route, for blob requests */
  readonly blob: BlobRoute | null;
  readonly status: number;
  /** client facts; null for non-blob requests, which never look at the client */
  readonly client: ClientFacts | null;
  readonly ipSource: 'xff' | 'socket' | null;
  /** the probed URL and what the probe said, for probe plans */
  readonly probeUrl: string | null;
  readonly probe: ProbeResult | null;
}

export interface RequestHandlerDeps {
  router: Router;
  /** the classifier in force: a range refresh swaps it for another function (the client memo is tied to one) */
  classify: () => Classify;
  clientIpRule: ClientIpRule;
  /** unmap `::ffff:a.b.c.d` (most-specific semantics) or keep it mapped (archeio semantics) */
  unmapV4: boolean;
  probe: BlobProber;
  renderer: ReplyRenderer;
  onDecision: (decision: Decision) => void;
}

/**
 * How many X-Forwarded-For values the handler remembers the client facts of (the slots of its SlotMemo). A pull is a
 * burst of requests from one client (a manifest, then each layer), and nodes behind one NAT share an address, so the
 * same header value repeats; each entry holds about 200 bytes.
 */
export const CLIENT_MEMO_MAX = 4096;

/** The client facts of a request and where its address came from. */
interface ClientOf {
  readonly client: ClientFacts;
  readonly source: 'xff' | 'socket' | null;
}

export function createRequestHandler(deps: RequestHandlerDeps): RequestHandler {
  const { router, renderer, probe, onDecision, clientIpRule } = deps;
  const ipOpts = { unmapV4: deps.unmapV4 };
  // The client facts are a pure function of the X-Forwarded-For value when the rule reads that header and it is
  // present (the socket address is then never read), for one classifier: remembered by header value, forgotten
  // when a range refresh swaps the classifier.
  const memoByXff = clientIpRule.kind !== 'socket';
  const clients = new SlotMemo<ClientOf>(CLIENT_MEMO_MAX);
  let clientsFor: Classify | null = null;

  /** `xff`: the request's X-Forwarded-For value, read once by the caller */
  const clientOf = (xff: string | undefined, req: HttpRequest, classify: Classify): ClientOf => {
    const ip = clientIp(clientIpRule, xff, req, ipOpts);
    let client: ClientFacts;
    if (ip.ip === null || ip.address === null) {
      client = ip.problem === undefined ? UNKNOWN_CLIENT : Object.freeze({ ...UNKNOWN_CLIENT, problem: ip.problem });
    } else {
      const c = classify(ip.address);
      client = Object.freeze(
        c === null
          ? { ip: ip.ip, cloud: null, region: null, prefix: null }
          : { ip: ip.ip, cloud: c.cloud, region: c.region, prefix: c.prefix },
      );
    }
    return { client, source: ip.source };
  };

  const finish = (
    req: HttpRequest,
    plan: Exclude<Plan, ProbePlan>,
    blob: BlobRoute | null,
    who: ClientOf | null,
    probeUrl: string | null,
    result: ProbeResult | null,
  ): Reply => {
    const reply = plan.kind === 'redirect' ? renderer.redirect(plan, req.method) : renderer.answer(plan);
    onDecision({
      method: req.method,
      target: req.target,
      plan,
      blob,
      status: reply.status,
      client: who === null ? null : who.client,
      ipSource: who === null ? null : who.source,
      probeUrl,
      probe: result,
    });
    return reply;
  };

  return (req) => {
    const route = router.route(req.method, req.target);
    if (route.kind !== 'blob') {
      // route() never plans a probe: probes need client facts
      return finish(req, route as Exclude<Plan, ProbePlan>, null, null, null, null);
    }
    const classify = deps.classify();
    const xff = memoByXff ? req.xff : undefined;
    let who: ClientOf | undefined;
    if (xff !== undefined && xff !== '') {
      if (clientsFor !== classify) {
        clients.clear();
        clientsFor = classify;
      }
      who = clients.get(xff);
      if (who === undefined) clients.set(xff, (who = clientOf(xff, req, classify)));
    } else {
      who = clientOf(memoByXff ? xff : req.xff, req, classify);
    }
    const plan = router.planBlob(route, who.client);
    if (plan.kind !== 'probe') return finish(req, plan, route, who, null, null);
    const known = probe.peek(plan.base, plan.url);
    if (known !== undefined) return finish(req, resolveProbe(plan, known.verdict), route, who, plan.url, known);
    const w = who;
    return probe
      .check(plan.base, plan.url)
      .then((r) => finish(req, resolveProbe(plan, r.verdict), route, w, plan.url, r));
  };
}
