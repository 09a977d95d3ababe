#!/usr/bin/env bash
# Uncompressed and compressed (gzip layers, as a registry stores them) size of the images
# `just test-images` built (localhost/stratus/<name>:test, or IMAGE_TAG), for docs/images.md.
#   scripts/images/sizes.sh [NAME...]
set -euo pipefail
tag=${IMAGE_TAG:-test}
(($#)) || set -- gdal-lambda run-lambda run-geolambda
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for name in "$@"; do
  image=localhost/stratus/$name:$tag
  buildah push --quiet "$image" "oci:$work/oci:$name" >/dev/null
  python3 - "$work/oci" "$name" "$(buildah inspect --type image --format '{{.Docker.Architecture}}' "$image")" \
    "$(buildah images --format '{{.Size}}' "$image" | head -n1)" <<'PY'
import json, sys
oci, name, arch, size = sys.argv[1:]
for m in json.load(open(f"{oci}/index.json"))["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == name:
        man = json.load(open(f"{oci}/blobs/sha256/{m['digest'].split(':')[1]}"))
        gz = sum(l["size"] for l in man["layers"]) / 1e6
        print(f"{name:14} {arch:6} uncompressed {size:>8}   compressed {gz:7.1f} MB   layers {len(man['layers'])}")
PY
done
