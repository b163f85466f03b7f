/**
 * What the installed clients cannot do, whatever the target serves, recognised from their own error messages. A pull
 * that fails for one of these reasons says nothing about the target: it is recorded as a note on the result and the
 * image is checked by what the client *can* do (skopeo: `inspect --raw`; ctr: `content fetch-object`; crane:
 * `crane pull --format=oci`, every blob re-hashed).
 *
 * Each pattern names the client version it was seen with (Debian 12: skopeo 1.9.3 / containers/image 5.23,
 * containerd 1.6.20; crane v0.22.1, pinned in go-programs.ts); a newer client that can do the thing simply never
 * matches.
 */
export interface ClientLimitation {
  tool: 'skopeo' | 'ctr' | 'crane';
  pattern: RegExp;
  note: string;
}

export const CLIENT_LIMITATIONS: readonly ClientLimitation[] = [
  {
    tool: 'skopeo',
    // c/image re-serialises lists with its own structs, which drop image-spec 1.1 descriptor fields (artifactType)
    pattern: /must be converted to type|cannot modify it/,
    note: 'skopeo 1.9 cannot store this index without rewriting it (its structs drop image-spec 1.1 fields such as artifactType)',
  },
  {
    tool: 'skopeo',
    // the OCI layout and dir: destinations hash with sha256 whatever the descriptor says
    pattern: /blob with digest sha512:[0-9a-f]+ saved with digest sha256:/,
    note: 'skopeo 1.9 stores blobs under sha256 only, so a sha512-addressed blob cannot be copied',
  },
  {
    tool: 'ctr',
    // containerd 1.6's content store commits with the canonical (sha256) digester
    pattern: /unexpected commit digest sha256:[0-9a-f]+, expected sha512:/,
    note: 'containerd 1.6 commits content under sha256 only, so a sha512-addressed blob cannot be fetched',
  },
  {
    tool: 'crane',
    // validate's layer check reads every layer media type through a gzip reader, so an uncompressed tar layer
    // (application/vnd.oci.image.layer.v1.tar) fails before its digest is compared
    pattern: /validating layers: gzip: invalid header/,
    note:
      'crane validate reads every layer as gzip, so an image with an uncompressed tar layer cannot be validated ' +
      '(https://github.com/google/go-containerregistry/issues/1826)',
  },
  {
    tool: 'crane',
    // since google/go-containerregistry#2298 validate skips "layers" whose media type is not a layer (a cosign signature's
    // simple-signing payload, attestations) yet still compares their count with the config's diff_ids
    pattern: /mismatched number of diffids: len\(ConfigFile\.RootFS\.DiffIDs\)=\d+, len\(layers\)=\d+/,
    note:
      "crane validate skips non-layer blobs (a cosign signature payload) but still counts the config's diff_ids " +
      '(https://github.com/google/go-containerregistry/pull/2298)',
  },
];

/** The limitation a failed client run hit, or null when the failure may be the target's. */
export function clientLimitation(tool: ClientLimitation['tool'], output: string): ClientLimitation | null {
  return CLIENT_LIMITATIONS.find((l) => l.tool === tool && l.pattern.test(output)) ?? null;
}
