/**
 * The routing oracle a run uses for a target: one per target object, fed with the image catalog (read from the
 * upstream) so blob probes use real digests.
 */
import { routingOracleFor, type RoutingOracle } from '../oracle/routing-oracle.js';
import type { TargetDescription } from '../target/target-description.js';
import { imageCatalogFor } from './image-catalog.js';

export function targetOracle(target: TargetDescription): Promise<RoutingOracle> {
  return routingOracleFor(target, { blobs: async () => (await imageCatalogFor(target)).blobs });
}
