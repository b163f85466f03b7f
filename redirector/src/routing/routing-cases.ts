/**
 * The routing case files, fixtures/routing-cases/*.json: request → expected reason, status and Location, the table
 * that pins every flowchart leaf of docs/request-handling.md (format described there). Read by the routing-case
 * runner and the flowchart test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPackageRoot } from '../ranges/index.js';

export type BucketBehaviour = 'present' | 'absent' | 'forbidden' | 'error' | 'timeout' | 'breaker-open';

export interface RoutingCase {
  name: string;
  method: string;
  /** the raw request-target */
  path: string;
  xff?: string;
  remote?: string;
  /** how the bucket answers the existence HEAD; default present */
  bucket?: BucketBehaviour;
  expect: {
    reason: string;
    status: number;
    location?: string;
    /** lower-case header name → value, or null for "absent" */
    headers?: Record<string, string | null>;
    ociCode?: string;
    body?: string;
    client?: { cloud: string | null; region: string | null; prefix: string | null };
  };
}

export interface RoutingCaseFile {
  description: string;
  /** configuration overrides for the whole file, as environment variables */
  env: Record<string, string>;
  cases: RoutingCase[];
}

export function routingCasesDir(): string {
  return join(findPackageRoot(dirname(fileURLToPath(import.meta.url))), 'fixtures', 'routing-cases');
}

/** Every case file, sorted by name. */
export function readRoutingCases(dir = routingCasesDir()): { file: string; doc: RoutingCaseFile }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, doc: JSON.parse(readFileSync(join(dir, file), 'utf8')) as RoutingCaseFile }));
}
