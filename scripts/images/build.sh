#!/usr/bin/env bash
# `just build` / `just image <name>`: build the images for AWS with Docker alone (the Dockerfiles
# compile the binaries themselves), for linux/arm64 unless STRATUS_IMAGE_ARCH says amd64; tag them
# stratus/<name>:<version>-<sha>, check their architecture, and hand them to Terraform in
# terraform/images.auto.tfvars.json together with that architecture.
#   scripts/images/build.sh [NAME...]   (default: gdal-lambda run-lambda run-geolambda)
# Environment:
#   STRATUS_IMAGE_ARCH   arm64 (default, Graviton) or amd64
#   STRATUS_CA_BUNDLE    a CA bundle for the builds' downloads (behind a TLS-inspecting proxy),
#                        passed as the build secret `ca`, never stored in an image
#   STRATUS_BUILD_ARGS   more arguments for the build (e.g. --build-arg BASE_IMAGE=…)
#   STRATUS_TFVARS       where the hand-over goes (default terraform/images.auto.tfvars.json)
#   DOCKER_CLI           the docker CLI (default: docker)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/images/lib.sh

all=(gdal-lambda run-lambda run-geolambda)
(($#)) || set -- "${all[@]}"
for name in "$@"; do
  [[ " ${all[*]} " == *" $name "* ]] || { echo "build: unknown image '$name' (one of: ${all[*]})" >&2; exit 2; }
done
arch=${STRATUS_IMAGE_ARCH:-arm64}
rust_triple "$arch" >/dev/null

docker=${DOCKER_CLI:-docker}
command -v "$docker" >/dev/null && "$docker" info >/dev/null 2>&1 \
  || { echo "build: no Docker engine answers ($docker): install Docker (docs/deploy.md)" >&2; exit 1; }
# Lambda takes a single image manifest: buildx must not wrap it in an index with attestations.
if "$docker" buildx version >/dev/null 2>&1; then
  build=("$docker" buildx build --provenance=false --sbom=false --load)
else
  echo "build: no buildx plugin: building with DOCKER_BUILDKIT=1 docker build (BuildKit, one platform)" >&2
  build=(env DOCKER_BUILDKIT=1 "$docker" build)
fi
extra=(--platform "linux/$arch") # never empty: bash 3.2 calls an empty array unbound
[[ -n ${STRATUS_CA_BUNDLE:-} ]] && extra+=(--secret "id=ca,src=$STRATUS_CA_BUNDLE")
# shellcheck disable=SC2206 # a word list on purpose
[[ -n ${STRATUS_BUILD_ARGS:-} ]] && extra+=($STRATUS_BUILD_ARGS)

tag=$(image_tag)
for name in "$@"; do
  image=stratus/$name:$tag
  echo "build: $image (linux/$arch)"
  start=$SECONDS
  "${build[@]}" -f "images/$name/Dockerfile" -t "$image" "${extra[@]}" .
  built=$("$docker" image inspect --format '{{.Os}}/{{.Architecture}}' "$image")
  [[ $built == "linux/$arch" ]] || { echo "build: $image is $built, not linux/$arch" >&2; exit 1; }
  echo "build: $image built in $((SECONDS - start)) s"
done

# Hand the tags and their architecture to Terraform; an image not rebuilt keeps its entry. Plain
# bash (no python or jq on the host): the file is ours, one "key": "value" per line.
tfvars=${STRATUS_TFVARS:-terraform/images.auto.tfvars.json}
entry() { [[ -f $tfvars ]] && sed -n "s/^ *\"$1\": *\"\([^\"]*\)\".*/\1/p" "$tfvars" | head -n1; }
# One variable per image, img_<key> (bash 3.2, macOS's, has no associative arrays).
keys=(gdal_lambda run_lambda run_geolambda)
for key in "${keys[@]}"; do
  value=""
  # Images of another architecture cannot deploy with these.
  [[ $(entry image_architecture) == "$arch" ]] && value=$(entry "$key")
  printf -v "img_$key" '%s' "$value"
done
for name in "$@"; do printf -v "img_${name//-/_}" '%s' "stratus/$name:$tag"; done
missing=""
{
  echo '{'
  echo '  "images": {'
  sep=""
  for key in "${keys[@]}"; do
    var=img_$key
    [[ -n ${!var} ]] || { missing+=" $key"; continue; }
    printf '%s    "%s": "%s"' "$sep" "$key" "${!var}"
    sep=$',\n'
  done
  echo
  echo '  },'
  # push_images is left out: local tags, which the apply pushes (it defaults to true).
  echo "  \"image_architecture\": \"$arch\""
  echo '}'
} >"$tfvars.tmp"
mv "$tfvars.tmp" "$tfvars"
echo "build: wrote $tfvars ($arch)${missing:+; still missing:$missing (\`just build\`)}"
