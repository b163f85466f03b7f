/** The server package's public surface. */
export { startRedirector } from './start-redirector.js';
export type { StartedRedirector } from './start-redirector.js';
export { assembleRedirector } from './redirector.js';
export type { Redirector, RedirectorDeps } from './redirector.js';
export { createRequestHandler } from './request-handler.js';
export type { BlobProber, Classify, Decision, HttpRequest, RequestHandler } from './request-handler.js';
export { createReplyRenderer } from './reply.js';
export type { Reply, ReplyRenderer } from './reply.js';
export { listenNodeHttp } from './node-adapter.js';
export { connectableHost } from './listener.js';
export type { Listener, ListenOptions } from './listener.js';
export type { Refusal, RefusalReason } from './refusal.js';
export { listenStrict, parseRequestHead } from './strict-listener.js';
export { clientFactsFor, explainRequest, ExplainError } from './explain.js';
export type { ExplainQuery, ExplainTrace } from './explain.js';
export { createMutation } from './mutants.js';
export type { Mutation } from './mutants.js';
export { configuredBucketMap, configuredRangeSources, configuredRoutingTable } from './configured-parts.js';
