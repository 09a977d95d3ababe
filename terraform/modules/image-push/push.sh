#!/usr/bin/env bash
# Tags a local image for ECR and pushes it, logging in with a token from Terraform.
# Refuses an image of another architecture than ARCHITECTURE, and an image index (what
# `docker buildx build` makes without --provenance=false), which Lambda cannot run.
# Environment: CONTAINER_CLI ARCHITECTURE SOURCE_IMAGE TARGET_IMAGE REGISTRY REGISTRY_USER REGISTRY_PASSWORD
set -euo pipefail

cli="${CONTAINER_CLI:-docker}"

if ! built=$("$cli" image inspect --format '{{.Os}}/{{.Architecture}}' "$SOURCE_IMAGE" 2>/dev/null); then
  echo "image-push: local image $SOURCE_IMAGE not found; run \`just build\` first" >&2
  exit 1
fi
if [[ $built != "linux/$ARCHITECTURE" ]]; then
  echo "image-push: $SOURCE_IMAGE is a $built image; this deployment runs linux/$ARCHITECTURE (STRATUS_IMAGE_ARCH=$ARCHITECTURE just build)" >&2
  exit 1
fi

# A loopback registry speaks plain HTTP (the daemon trusts it so; the manifest command must be told).
insecure=()
case $REGISTRY in 127.0.0.1:* | localhost:*) insecure=(--insecure) ;; esac

# One image, not an index: Lambda's CreateFunction refuses index digests.
single_image() {
  local manifest
  manifest=$("$cli" manifest inspect "${insecure[@]}" "$TARGET_IMAGE")
  if grep -q '"manifests"' <<<"$manifest"; then
    echo "image-push: $TARGET_IMAGE is an image index (build attestations or several platforms), which Lambda cannot run: build with \`docker buildx build --provenance=false --sbom=false\` (just build does)" >&2
    exit 1
  fi
}

# A here-string, not a pipe: a CLI that exits without reading stdin must not SIGPIPE the writer
# (docker trims the newline).
"$cli" login --username "$REGISTRY_USER" --password-stdin "$REGISTRY" <<<"$REGISTRY_PASSWORD" >/dev/null

# Tags are immutable in the repository: a tag that is already there holds this build.
if "$cli" manifest inspect "${insecure[@]}" "$TARGET_IMAGE" >/dev/null 2>&1; then
  single_image
  echo "image-push: $TARGET_IMAGE is already in the registry"
  exit 0
fi

"$cli" tag "$SOURCE_IMAGE" "$TARGET_IMAGE"
"$cli" push "$TARGET_IMAGE"
single_image
