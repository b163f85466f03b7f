/** The registry-canary package's version (package.json), which the reports record as the harness's. */
import { readFileSync } from 'node:fs';
import { fromPackageRoot } from './package-root.js';

let version: string | undefined;

export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(fromPackageRoot('package.json'), 'utf8')) as { version: string }).version;
  return version;
}
