/** Public surface of the embedded read-only registry. */
export {
  startEmbeddedRegistry,
  type EmbeddedRegistryOptions,
  type StartedEmbeddedRegistry,
} from './embedded-registry.js';
export {
  createRegistryHandler,
  type RegistryHandler,
  type RegistryRequest,
  type RegistryResponse,
} from './registry-handler.js';
export { loadLayoutCatalog, type CatalogManifest, type CatalogRepo, type LayoutCatalog } from './layout-catalog.js';
export {
  DEFAULT_DOCKER_REGISTRY_BINARY,
  DistributionRegistryError,
  distributionRegistryInstalled,
  startDistributionRegistry,
  type DistributionRegistryOptions,
  type StartedDistributionRegistry,
} from './distribution-registry.js';
