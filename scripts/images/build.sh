#!/usr/bin/env bash
# `just build` / `just image <name>`: build the images for AWS (linux/arm64 unless
# STRATUS_IMAGE_ARCH says otherwise) with docker buildx, tag them stratus/<name>:<version>-<sha>
# and hand them to Terraform in terraform/images.auto.tfvars.json (docs/terraform.md).
#   scripts/images/build.sh [NAME...]   (default: gdal-lambda run-lambda run-geolambda)
# The binaries come from scripts/images/stage.sh (cargo lambda for run-lambda, a cross build with
# the lean static GDAL for gdal-lambda); buildx's layer cache lives in target/images/buildx-cache.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source scripts/images/lib.sh

all=(gdal-lambda run-lambda run-geolambda)
(($#)) || set -- "${all[@]}"
for name in "$@"; do
  [[ " ${all[*]} " == *" $name "* ]] || { echo "build: unknown image '$name' (one of: ${all[*]})" >&2; exit 2; }
done

docker=${CONTAINER_CLI:-docker}
if ! command -v "$docker" >/dev/null || ! "$docker" buildx version >/dev/null 2>&1 || ! "$docker" info >/dev/null 2>&1; then
  echo "build: no Docker engine with buildx here ($docker); \`just test-images\` builds and runs the images with buildah instead" >&2
  exit 1
fi

arch=${STRATUS_IMAGE_ARCH:-arm64}
tag=$(image_tag)
scripts/images/stage.sh "$arch"

for name in "$@"; do
  image=stratus/$name:$tag
  echo "build: $image (linux/$arch)"
  cache=target/images/buildx-cache/$name
  "$docker" buildx build --platform "linux/$arch" -f "images/$name/Dockerfile" -t "$image" \
    --cache-from "type=local,src=$cache" --cache-to "type=local,dest=$cache-new,mode=max" \
    --load target/images/context
  rm -rf "$cache" && mv "$cache-new" "$cache"
done

# Hand the tags over to Terraform; an image not rebuilt keeps its previous entry.
python3 - terraform/images.auto.tfvars.json "$tag" "$@" <<'PY'
import json, os, sys
path, tag, names = sys.argv[1], sys.argv[2], sys.argv[3:]
try:
    doc = json.load(open(path))
except (OSError, ValueError):
    doc = {}
images = doc.setdefault("images", {})
for name in names:
    images[name.replace("-", "_")] = f"stratus/{name}:{tag}"
missing = {"gdal_lambda", "run_lambda", "run_geolambda"} - images.keys()
doc.pop("push_images", None)  # local tags: the apply pushes them (push_images defaults to true)
with open(path + ".tmp", "w") as f:
    json.dump(doc, f, indent=2)
    f.write("\n")
os.replace(path + ".tmp", path)
print(f"build: wrote {path}" + (f" (still missing: {', '.join(sorted(missing))}: `just build`)" if missing else ""))
PY
