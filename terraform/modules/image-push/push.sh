#!/usr/bin/env bash
# Tags a local image for ECR and pushes it, logging in with a token from Terraform.
# Environment: CONTAINER_CLI SOURCE_IMAGE TARGET_IMAGE REGISTRY REGISTRY_USER REGISTRY_PASSWORD
set -euo pipefail

cli="${CONTAINER_CLI:-docker}"

if ! "$cli" image inspect "$SOURCE_IMAGE" >/dev/null 2>&1; then
  echo "image-push: local image $SOURCE_IMAGE not found; run \`just build\` first" >&2
  exit 1
fi

# A here-string, not a pipe: a CLI that exits without reading stdin must not SIGPIPE the writer
# (docker trims the newline).
"$cli" login --username "$REGISTRY_USER" --password-stdin "$REGISTRY" <<<"$REGISTRY_PASSWORD" >/dev/null

# Tags are immutable in the repository: a tag that is already there holds this build.
if "$cli" manifest inspect "$TARGET_IMAGE" >/dev/null 2>&1; then
  echo "image-push: $TARGET_IMAGE is already in the registry"
  exit 0
fi

"$cli" tag "$SOURCE_IMAGE" "$TARGET_IMAGE"
"$cli" push "$TARGET_IMAGE"
