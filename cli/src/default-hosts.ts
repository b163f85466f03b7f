/**
 * Production has two "default blob hosts", each true of a different thing: archeio's compiled-in default, which the
 * bundled bucket map (fixtures/bucket-map.json) carries and `serve`, `explain`, `cost` and `ranges audit` use unless
 * told otherwise; and the host production's deployment sets with DEFAULT_AWS_BASE_URL, which
 * fixtures/targets/production.json describes. Wherever a command shows one, it says which (docs/configuration.md
 * "The two production default hosts").
 */
export const ARCHEIO_COMPILED_DEFAULT = 'https://d1be1w964nk82h.cloudfront.net';
export const PRODUCTION_DEPLOYED_DEFAULT = 'https://cdn.registry.k8s.io';

/** One line saying which default host `base` is, or undefined for any other host. */
export function defaultHostNote(base: string | null | undefined): string | undefined {
  const b = (base ?? '').replace(/\/+$/, '');
  if (b === ARCHEIO_COMPILED_DEFAULT) {
    return (
      `${ARCHEIO_COMPILED_DEFAULT} is archeio's compiled-in default host (the bundled bucket map's); production's ` +
      `deployment sets DEFAULT_AWS_BASE_URL=${PRODUCTION_DEPLOYED_DEFAULT} (pass --default-aws-base-url to see its answers)`
    );
  }
  if (b === PRODUCTION_DEPLOYED_DEFAULT) {
    return (
      `${PRODUCTION_DEPLOYED_DEFAULT} is the default host production's deployment sets (DEFAULT_AWS_BASE_URL); ` +
      `archeio's compiled-in default, in the bundled bucket map, is ${ARCHEIO_COMPILED_DEFAULT}`
    );
  }
  return undefined;
}

/** The `--bucket-map` help text shared by the commands that read the bundled map. */
export const BUCKET_MAP_HELP =
  'bucket map JSON {"default": url, "regions": {...}} (default: the bundled production map, with archeio\'s ' +
  `compiled-in default host ${ARCHEIO_COMPILED_DEFAULT}; production's deployment overrides it with ` +
  `${PRODUCTION_DEPLOYED_DEFAULT})`;
