#!/usr/bin/env bash
# Pushes one local image to ECR during `terraform apply` (one run per image, several at once).
#  1. Before anything reaches the registry: the local image must be linux/ARCHITECTURE and one
#     image, not an index (attestations or several platforms), which Lambda cannot run.
#  2. Logs in once per registry and token, one login at a time: parallel logins race in the
#     credential helpers (macOS's keychain: "The specified item already exists in the keychain")
#     and in ~/.docker/config.json. A lock directory serialises them (mkdir is atomic everywhere;
#     flock is not on macOS), and a marker keyed by a hash of registry and token lets the other
#     runs of the same apply skip the login. The pushes themselves stay parallel.
#  3. A tag already in the registry is reused only if it holds one image manifest of the right
#     architecture (tags are immutable, and name one build: `just build`); else it stops saying
#     what is there. Otherwise tags and pushes, and checks what the registry then holds.
# Runs on macOS's /bin/bash 3.2 as on bash 5 (scripts/check-bash32 checks it), with BSD or GNU tools.
# Environment: CONTAINER_CLI ARCHITECTURE SOURCE_IMAGE TARGET_IMAGE REGISTRY REGISTRY_USER REGISTRY_PASSWORD
set -euo pipefail

cli=${CONTAINER_CLI:-docker}
fail() { echo "image-push: $*" >&2; exit 1; }
sha256() { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi; }
# Lambda and Batch run these: a Docker v2 schema 2 or OCI image manifest.
is_image_manifest() {
  case $1 in
    application/vnd.docker.distribution.manifest.v2+json | application/vnd.oci.image.manifest.v1+json) return 0 ;;
    *) return 1 ;;
  esac
}
rebuild="build it again with \`STRATUS_IMAGE_ARCH=$ARCHITECTURE just build\` (one image manifest: \`docker buildx build --provenance=false --sbom=false\`)"

# --- 1. the local image ---------------------------------------------------------------------
platform=$("$cli" image inspect --format '{{.Os}}/{{.Architecture}}' "$SOURCE_IMAGE" 2>/dev/null) \
  || fail "local image $SOURCE_IMAGE not found; run \`just build\` first"
[[ $platform == "linux/$ARCHITECTURE" ]] \
  || fail "$SOURCE_IMAGE is a $platform image; this deployment runs linux/$ARCHITECTURE: $rebuild"
# What `push` would send. Docker's containerd image store (Docker Desktop's default since 4.34)
# keeps what the build made and pushes exactly that: `.Descriptor.mediaType` says whether it is
# an image manifest or an index. The classic store (Docker Engine's default through 28, and the
# Debian engine Stratus is tested on) has no `.Descriptor`: it keeps one image configuration, and
# its push always writes one Docker v2 schema 2 manifest, so there is nothing to refuse there.
stored=$("$cli" image inspect --format '{{json .}}' "$SOURCE_IMAGE" 2>/dev/null \
  | sed -n 's/.*"Descriptor":{[^}]*"mediaType":"\([^"]*\)".*/\1/p') || stored=""
if [[ -n $stored ]] && ! is_image_manifest "$stored"; then
  fail "$SOURCE_IMAGE is stored as $stored (an image index: build attestations or several platforms), which Lambda cannot run; nothing was pushed: $rebuild"
fi

# --- 2. one login per registry and token -----------------------------------------------------
state=${TMPDIR:-/tmp}/stratus-image-push-$(id -u)
mkdir -p "$state" && chmod 700 "$state"
lock=$state/login.lock
marker=$state/$(printf '%s\n%s' "$REGISTRY" "$REGISTRY_PASSWORD" | sha256 | cut -c1-32).login
waited=0
until mkdir "$lock" 2>/dev/null; do
  # A lock whose holder is gone (an interrupted apply) is taken over; one still being set up
  # (no pid yet) is waited for.
  holder=$(cat "$lock/pid" 2>/dev/null || true)
  if [[ -n $holder ]] && ! kill -0 "$holder" 2>/dev/null; then
    rm -rf "$lock"
    continue
  fi
  [[ $waited -lt 600 ]] || fail "waited 2 minutes for another login to $REGISTRY; if no apply is running, remove $lock"
  sleep 0.2
  waited=$((waited + 1))
done
trap 'rm -rf "$lock"' EXIT
echo $$ >"$lock/pid"
if [[ ! -e $marker ]]; then
  # A here-string, not a pipe: a CLI that exits without reading stdin must not SIGPIPE the
  # writer (docker trims the newline). The token never reaches the command line or the output.
  "$cli" login --username "$REGISTRY_USER" --password-stdin "$REGISTRY" <<<"$REGISTRY_PASSWORD" >/dev/null
  : >"$marker"
fi
rm -rf "$lock"
trap - EXIT
# Markers of earlier applies (ECR tokens last 12 hours).
find "$state" -name '*.login' -mmin +720 -exec rm -f {} + 2>/dev/null || true

# --- 3. what the registry holds under the tag ------------------------------------------------
# A loopback registry speaks plain HTTP (the daemon trusts it so; the manifest command must be told).
inspect=(manifest inspect -v)
case $REGISTRY in 127.0.0.1:* | localhost:*) inspect+=(--insecure) ;; esac
# `manifest inspect -v` prints one object for an image manifest, its media type and platform
# (read from the image's config) first; for an index, a list with one object per manifest.
held() { # prints "<media type> <os>/<arch>", or "index <platforms…>"; fails when the tag is absent
  local out
  out=$("$cli" "${inspect[@]}" "$TARGET_IMAGE" 2>/dev/null) || return 1 # bash32: never empty
  case $out in
    \[*) echo "index $(awk -F'"' '$2 == "architecture" { a = $4 } $2 == "os" { printf "%s/%s ", $4, a }' <<<"$out")" ;;
    *) awk -F'"' '$2 == "mediaType" && !t { t = $4 } $2 == "architecture" && !a { a = $4 } $2 == "os" && !o { o = $4 }
                  END { print t, o "/" a }' <<<"$out" ;;
  esac
}
# Why the registry's TARGET_IMAGE cannot be deployed, or nothing.
refusal() { # <what held printed>
  local type=${1%% *} platform=${1#* }
  if [[ $type == index ]]; then
    echo "an image index (manifests for: ${platform% }), which Lambda cannot run"
  elif ! is_image_manifest "$type"; then
    echo "a $type manifest, not a Docker v2 or OCI image manifest"
  elif [[ $platform != "linux/$ARCHITECTURE" ]]; then
    echo "a $platform image, not linux/$ARCHITECTURE"
  fi
}

if there=$(held); then
  why=$(refusal "$there")
  if [[ -n $why ]]; then
    repository=${TARGET_IMAGE#*/}
    fail "$TARGET_IMAGE is already in the registry and holds $why; nothing was pushed. The tag cannot be pushed again (tags are immutable): delete that image (\`aws ecr batch-delete-image --repository-name ${repository%:*} --image-ids imageTag=${repository##*:}\`) and apply again, or build from another commit or with a change (\`just build\` gives each build its own tag)"
  fi
  echo "image-push: $TARGET_IMAGE is already in the registry (${there}), reused"
  exit 0
fi

"$cli" tag "$SOURCE_IMAGE" "$TARGET_IMAGE"
"$cli" push "$TARGET_IMAGE"
there=$(held) || fail "$TARGET_IMAGE was pushed but the registry does not show it"
why=$(refusal "$there")
[[ -z $why ]] || fail "$TARGET_IMAGE was pushed, and the registry holds $why: $rebuild"
echo "image-push: pushed $TARGET_IMAGE ($there)"
