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
extra=()
[[ -n ${STRATUS_CA_BUNDLE:-} ]] && extra+=(--secret "id=ca,src=$STRATUS_CA_BUNDLE")
# shellcheck disable=SC2206 # a word list on purpose
[[ -n ${STRATUS_BUILD_ARGS:-} ]] && extra+=($STRATUS_BUILD_ARGS)

tag=$(image_tag)
for name in "$@"; do
  image=stratus/$name:$tag
  echo "build: $image (linux/$arch)"
  start=$SECONDS
  "${build[@]}" --platform "linux/$arch" -f "images/$name/Dockerfile" -t "$image" "${extra[@]}" .
  built=$("$docker" image inspect --format '{{.Os}}/{{.Architecture}}' "$image")
  [[ $built == "linux/$arch" ]] || { echo "build: $image is $built, not linux/$arch" >&2; exit 1; }
  echo "build: $image built in $((SECONDS - start)) s"
done

# Hand the tags and their architecture to Terraform; an image not rebuilt keeps its entry.
python3 - "${STRATUS_TFVARS:-terraform/images.auto.tfvars.json}" "$tag" "$arch" "$@" <<'PY'
import json, os, sys
path, tag, arch, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
try:
    doc = json.load(open(path))
except (OSError, ValueError):
    doc = {}
if doc.get("image_architecture", arch) != arch:
    doc["images"] = {}  # images of another architecture cannot deploy with these
images = doc.setdefault("images", {})
for name in names:
    images[name.replace("-", "_")] = f"stratus/{name}:{tag}"
doc["image_architecture"] = arch
missing = {"gdal_lambda", "run_lambda", "run_geolambda"} - images.keys()
doc.pop("push_images", None)  # local tags: the apply pushes them (push_images defaults to true)
with open(path + ".tmp", "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(path + ".tmp", path)
print(f"build: wrote {path} ({arch})" + (f"; still missing: {', '.join(sorted(missing))} (`just build`)" if missing else ""))
PY
