/**
 * The one shape every service of the local stack starts into. Each service has a `start…(options)` function that
 * resolves once the service answers, with a `Started<Service>`: what the service offers, and `stop()`, which undoes
 * the start. startStack registers each `stop()` as a teardown step the moment the service exists.
 */
import type { ManagedProcess } from './managed-process.js';

/** A running service: what it offers, and how to stop it. */
export type Started<Service> = Service & {
  /** stops the service and removes what it made; resolves when it is gone */
  stop(): Promise<void>;
};

/** An OCI registry (docker-registry, in a process or a container, or the embedded one). */
export interface RegistryService {
  url: string;
  /** the process it runs as, when the stack runs it as a local process */
  process?: ManagedProcess;
}

/** The redirector under test (a process or a container). */
export interface RedirectorService {
  /** the public listener */
  url: string;
  /** the admin listener (metrics, healthz, readyz, explain) */
  adminUrl: string;
  /** the process it runs as, when the stack runs it as a local process */
  process?: ManagedProcess;
}
